/**
 * Every pipeline qscope ships, by name. Section per experiment: add one line.
 *
 * Online pipelines (watch a session's frames; `--pipeline NAME` on replay)
 * register a PipelineFactory (pipelines/core/pipeline.ts) here. Pipelines
 * that offer offline commands (`qscope train <name>`, `qscope reconstruct
 * <name>`) add their option tables to PIPELINE_COMMANDS; each entry is light,
 * the heavy modules (tfjs, estimators) load inside `run`.
 */
import { PipelineRegistry } from './core/pipeline.js';
import { cosyCommands } from './cosy/commands.js';

export { PipelineRegistry } from './core/pipeline.js';
export type { Pipeline, PipelineFactory, PipelineOutput, PipelineContext } from './core/pipeline.js';

export async function createDefaultPipelineRegistry(): Promise<PipelineRegistry> {
  const registry = new PipelineRegistry();
  // ==================== antibunching-scan (g2) ====================
  // ==================== cosy-2d ====================
  registry.register((await import('./cosy/pipeline.js')).cosyPipelineFactory);
  return registry;
}

export interface OptionSpec {
  /** Commander flags, e.g. `--epochs <n>`. */
  flags: string;
  description: string;
  default?: string | boolean;
}

export interface OfflineCommand {
  description: string;
  options: OptionSpec[];
  run(opts: Record<string, string | boolean | undefined>): Promise<void>;
}

export interface PipelineCommands {
  train?: OfflineCommand;
  reconstruct?: OfflineCommand;
}

export const PIPELINE_COMMANDS: Record<string, PipelineCommands> = {
  cosy: cosyCommands,
};
