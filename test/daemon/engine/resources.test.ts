/**
 * No memory growth per session (issue 18, point 4): what a finished session held is released. Counted, not
 * timed: the engine's live session runs, the pipeline reference, driver state subscriptions, pending clock
 * actions and the process's active handles are the same after every session as after the first.
 */
import { describe, expect, it } from 'vitest';
import type { Driver } from '../../../drivers/core/driver.js';
import { scanRig } from '../../pipelines/antibunching/scan-rig.js';

/** Subscribers of a driver's state (sessions subscribe to record state changes). */
function stateObservers(d: Driver): number {
  return (d as unknown as { stateSubject: { observers: unknown[] } }).stateSubject.observers.length;
}

/** Handles keeping the process alive, by type (not `Immediate`: the virtual clock's own pump, counted as clock.pending). */
function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (r !== 'Immediate') out[r] = (out[r] ?? 0) + 1;
  return out;
}

describe('a finished session leaves nothing behind', () => {
  it('antibunching-scan three times: the same counts after each session as after the first', async () => {
    const rig = await scanRig({}, 4);
    try {
      const params = { nx: 2, ny: 2, prescanPixels: 4, calibrationS: 120, maxDwellS: 2, method: 'pooled' };
      const snapshot = async () => {
        const id = await rig.engine.start('antibunching-scan', params);
        expect(rig.engine.liveRuns).toBe(1);
        const st = await rig.engine.whenEnded(id);
        // The recorder's last checkpoint runs in a worker that exits by itself: wait for that event (a
        // worker that never exits would keep this loop going until the test fails on its timeout).
        while (activeResources().MessagePort) await new Promise((r) => setImmediate(r));
        expect(st.state).toBe('completed');
        return {
          liveRuns: rig.engine.liveRuns,
          statusKept: rig.engine.session(id).state,
          observers: [...rig.drivers.values()].map(stateObservers),
          clockPending: rig.clock.pending,
          resources: activeResources(),
        };
      };
      const first = await snapshot();
      expect(first.liveRuns).toBe(0); // the finished run (pipeline, recorder, subscriptions) is no longer referenced
      for (let i = 0; i < 2; i++) {
        const next = await snapshot();
        expect(next.liveRuns).toBe(0);
        expect(next.statusKept).toBe(first.statusKept);
        expect(next.observers).toEqual(first.observers);
        expect(next.clockPending).toBe(first.clockPending);
        expect(next.resources).toEqual(first.resources);
      }
    } finally {
      await rig.cleanup();
    }
  }, 180_000);

  it('the engine keeps the final status of its recent sessions only, and the run it holds has let go of its pipeline', async () => {
    const rig = await scanRig({}, 4);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 34; i++) {
        // Aborted at once: cheap sessions, each with a pipeline created for it.
        const id = await rig.engine.start('antibunching-scan', { nx: 2, ny: 2, prescanPixels: 2, calibrationS: 1 });
        await rig.engine.abort(id);
        ids.push(id);
      }
      expect(rig.engine.liveRuns).toBe(0);
      const current = (rig.engine as unknown as { current: { holdsPipeline: boolean } }).current;
      expect(current.holdsPipeline).toBe(false);
      // The 32 most recent are answered from memory; older ones from their files, with the same state.
      await expect(rig.engine.whenEnded(ids[33])).resolves.toMatchObject({ state: 'aborted' });
      await expect(rig.engine.whenEnded(ids[0])).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
      expect(rig.engine.session(ids[0]!).state).toBe('aborted');
    } finally {
      await rig.cleanup();
    }
  }, 120_000);
});
