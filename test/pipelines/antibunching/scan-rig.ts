/** A simulated rig + engine for antibunching-scan tests (virtual clock). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { createDefaultRegistry } from '../../../drivers/index.js';
import { Engine } from '../../../daemon/engine/engine.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { DEFAULT_LIMITS } from '../../../daemon/store/writer.js';
import { createDefaultPlanRegistry } from '../../../daemon/plans/index.js';
import { createDefaultPipelineRegistry } from '../../../pipelines/index.js';

/** `instruments`: the rig's config entries (default: simulated piezo0 and hbt0). */
export async function scanRig(scene: Record<string, unknown> = {}, seed = 5, instruments: Record<string, { kind: string; impl: string; [k: string]: unknown }> = { piezo0: { kind: 'piezo', impl: 'sim' }, hbt0: { kind: 'hbt', impl: 'sim' } }) {
  const dir = mkdtempSync(join(tmpdir(), 'qscope-g2-'));
  const clock = new VirtualClock();
  const world = new SimWorld({ seed, clock, scene: { emitters: scene } });
  const drivers = await createDefaultRegistry().build(instruments, { clock, world });
  for (const d of drivers.values()) await d.connect();
  const store = new SessionStore(dir, { limits: { ...DEFAULT_LIMITS, minFreeBytes: 1 } });
  const engine = new Engine({
    clock,
    drivers,
    plans: await createDefaultPlanRegistry(),
    pipelines: await createDefaultPipelineRegistry(),
    store,
    config: { rig: { seed, clock: 'virtual' }, instruments },
    softwareVersion: 'test',
  });
  const cleanup = async () => {
    await engine.stop?.();
    for (const d of drivers.values()) await d.disconnect();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, clock, world, drivers, store, engine, cleanup };
}

/** The last result frame of `stream` as a Float64Array. */
export function lastResult(engine: Engine, id: string, stream: string): { payload: Float64Array; header: Record<string, unknown> } {
  const frames = engine.frames(id, stream);
  const f = frames[frames.length - 1];
  if (!f) throw new Error(`no ${stream} result`);
  return { payload: f.payload as Float64Array, header: f.header };
}
