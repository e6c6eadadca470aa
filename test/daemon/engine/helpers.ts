import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../../drivers/core/clock.js';
import type { FaultSettings } from '../../../drivers/core/simulated.js';
import { Engine } from '../../../daemon/engine/engine.js';
import { SessionStore, type StoreOptions } from '../../../daemon/store/store.js';
import type { Plan } from '../../../pipelines/core/plan.js';
import { buildTestRig, testPipelines, testPlans } from './doubles.js';

export function tmpDir(prefix = 'qscope-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function makeEngine(dir: string, opts: { faults?: Record<string, FaultSettings>; store?: Partial<StoreOptions>; seed?: number; extraPlans?: Plan<never>[] } = {}) {
  const clock = new VirtualClock();
  const rig = await buildTestRig(clock, { ...(opts.faults ? { faults: opts.faults } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  const store = new SessionStore(dir, { limits: { ...(await import('../../../daemon/store/writer.js')).DEFAULT_LIMITS, minFreeBytes: 1 }, ...opts.store });
  const plans = testPlans();
  for (const p of opts.extraPlans ?? []) plans.register(p);
  const engine = new Engine({
    clock,
    drivers: rig.drivers,
    plans,
    pipelines: testPipelines(),
    store,
    config: { rig: { seed: opts.seed ?? 7, clock: 'virtual' }, instruments: rig.instruments },
    softwareVersion: 'test',
  });
  return { engine, clock, store, ...rig };
}

/** Resolves after `n` turns of the event loop (lets virtual time run). */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}
