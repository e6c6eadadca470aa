import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { createDefaultRegistry } from '../../../drivers/index.js';
import { Engine } from '../../../daemon/engine/engine.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { DEFAULT_LIMITS } from '../../../daemon/store/writer.js';
import { PlanRegistry } from '../../../daemon/plans/index.js';
import { cosy2dPlan } from '../../../pipelines/cosy/plan.js';
import { PipelineRegistry, type PipelineFactory } from '../../../pipelines/core/pipeline.js';
import { cosyPipelineFactory } from '../../../pipelines/cosy/pipeline.js';

export function tmpDir(prefix = 'qscope-cosy-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The simulated cosy rig (rf0 + odmr0, default dimer) on a virtual clock, with the real plan and pipeline. */
export async function cosyRig(dir: string, opts: { pipeline?: PipelineFactory; seed?: number } = {}) {
  const clock = new VirtualClock();
  const world = new SimWorld({ seed: opts.seed ?? 5, clock });
  const instruments = { rf0: { kind: 'rf', impl: 'sim' }, odmr0: { kind: 'odmr', impl: 'sim', rf: 'rf0' } };
  const drivers = await createDefaultRegistry().build(instruments, { clock, world });
  for (const d of drivers.values()) await d.connect();
  const store = new SessionStore(dir, { limits: { ...DEFAULT_LIMITS, minFreeBytes: 1 } });
  const engine = new Engine({
    clock,
    drivers,
    plans: new PlanRegistry().register(cosy2dPlan),
    pipelines: new PipelineRegistry().register(opts.pipeline ?? cosyPipelineFactory),
    store,
    config: { rig: { seed: opts.seed ?? 5, clock: 'virtual' }, instruments },
    softwareVersion: 'test',
  });
  return { engine, clock, world, drivers, store };
}
