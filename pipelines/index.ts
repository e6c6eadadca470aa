/**
 * Every pipeline qscope ships, by name. Section per experiment: add one line.
 *
 * Online pipelines (watch a session's frames; `--pipeline NAME` on replay)
 * register a PipelineFactory (pipelines/core/pipeline.ts) here.
 */
import { PipelineRegistry } from './core/pipeline.js';

export { PipelineRegistry } from './core/pipeline.js';
export type { Pipeline, PipelineFactory, PipelineOutput, PipelineContext } from './core/pipeline.js';

export async function createDefaultPipelineRegistry(): Promise<PipelineRegistry> {
  const registry = new PipelineRegistry();
  // ==================== antibunching-scan (g2) ====================
  registry.register((await import('./antibunching/pipeline.js')).g2PipelineFactory);
  // ==================== cosy-2d ====================
  registry.register((await import('./cosy/pipeline.js')).cosyPipelineFactory);
  // ==================== mrfm-multislice, mrfm-xyz ====================
  registry.register((await import('./mrfm/pipeline.js')).mrfmPipelineFactory);
  // ==================== domain-imaging ====================
  registry.register((await import('./domains/pipeline.js')).domainsPipelineFactory);
  return registry;
}
