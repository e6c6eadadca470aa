/**
 * Long work shows where it is: a plan's phases, each with its own progress and
 * time remaining, in the session status (sessions.status, daemon.status, the
 * CLI) and recorded as `phase` events; the plan's estimate and what is left.
 * On the virtual clock: exact experiment times, counted events, no sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../../pipelines/core/plan.js';
import type { PhaseStatus, SessionStatus } from '../../../daemon/engine/api.js';
import { describeEstimate, formatDuration } from '../../../daemon/commands/run.js';
import { antibunchingScanPlan } from '../../../pipelines/antibunching/plan.js';
import { makeEngine, tmpDir } from './helpers.js';

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => {
  tmp = tmpDir();
});
afterEach(() => tmp.cleanup());

const phased: Plan<Record<string, unknown>> = {
  name: 'phased',
  version: '1',
  description: 'two phases',
  params: { type: 'object', properties: {} },
  roles: {},
  estimate: () => ({ totalMs: 5000, phases: [{ name: 'sweep', ms: 1000 }, { name: 'settle', ms: 4000 }] }),
  async run(ctx) {
    ctx.phase('sweep', { total: 4, unit: 'points' });
    for (let i = 1; i <= 4; i++) {
      await ctx.wait(100);
      ctx.phaseProgress(i);
    }
    ctx.phase('settle');
    await ctx.wait(1500);
    ctx.phase('done', { estimateMs: 0 });
  },
};

describe('phases and time remaining', () => {
  it('each phase shows its own progress and remaining time; the estimate counts down; phases are recorded', async () => {
    const { engine, store } = await makeEngine(tmp.dir, { extraPlans: [phased as Plan<never>] });
    const seen: SessionStatus[] = [];
    const sub = engine.events$.subscribe((e) => e.type === 'progress' && e.status.phase && seen.push(e.status));
    const id = await engine.start('phased', {});
    const end = await engine.whenEnded(id);
    sub.unsubscribe();
    expect(end.state).toBe('completed');
    const at = (name: string, done: number): SessionStatus => seen.find((s) => s.phase?.name === name && s.phase.done === done)!;

    // Entering `sweep`: nothing done, the phase's own estimate, the whole plan still ahead.
    expect(at('sweep', 0).phase).toEqual<PhaseStatus>({ name: 'sweep', index: 0, count: 2, done: 0, total: 4, unit: 'points', elapsedMs: 0, estimateMs: 1000, remainingMs: 1000 });
    expect(at('sweep', 0).estimate).toEqual({ totalMs: 5000, remainingMs: 5000 });
    // Its last step (always reported): 400 ms spent, none left; the rest is the later phase's estimate.
    expect(at('sweep', 4).phase).toMatchObject({ done: 4, elapsedMs: 400, remainingMs: 0 });
    expect(at('sweep', 4).estimate).toEqual({ totalMs: 5000, remainingMs: 4000 });
    // `settle` has no total: its time remaining counts down from the plan's estimate of it.
    expect(at('settle', 0).phase).toEqual<PhaseStatus>({ name: 'settle', index: 1, count: 2, done: 0, elapsedMs: 0, estimateMs: 4000, remainingMs: 4000 });
    expect(at('done', 0).phase).toMatchObject({ index: 2, estimateMs: 0, remainingMs: 0 });
    // Finished: nothing left.
    expect(end.estimate).toEqual({ totalMs: 5000, remainingMs: 0 });

    const r = store.open(id);
    try {
      expect(r.events('phase').map((e) => [e.t, (e.data as { name: string }).name])).toEqual([
        [0, 'sweep'],
        [400e6, 'settle'],
        [1900e6, 'done'],
      ]);
    } finally {
      r.close();
    }
  });

  it('while a long single step runs, the status (daemon.status too) counts its remaining time down', async () => {
    const long: Plan<Record<string, unknown>> = {
      ...phased,
      name: 'long-step',
      estimate: () => ({ totalMs: 60_000, phases: [{ name: 'calibration', ms: 60_000 }] }),
      async run(ctx) {
        ctx.phase('calibration');
        await ctx.wait(60_000);
      },
    };
    const { engine, clock } = await makeEngine(tmp.dir, { extraPlans: [long as Plan<never>] });
    const id = await engine.start('long-step', {});
    // 20 s into the 60 s step (virtual time), no event has come, yet the status knows where it is.
    await clock.sleep(20_000);
    expect(engine.session(id).phase).toMatchObject({ name: 'calibration', elapsedMs: 20_000, estimateMs: 60_000, remainingMs: 40_000 });
    expect(engine.session(id).estimate).toEqual({ totalMs: 60_000, remainingMs: 40_000 });
    expect(engine.status().session?.phase).toMatchObject({ name: 'calibration', remainingMs: 40_000 });
    await engine.whenEnded(id);
    expect(engine.session(id).phase).toMatchObject({ name: 'calibration', elapsedMs: 60_000, remainingMs: 0 });
  });

  it('antibunching-scan enters pre-scan, calibration, raster, reconstruction, and estimates an upper bound', async () => {
    const p = { nx: 2, ny: 2, prescanPixels: 2, prescanDwellMs: 20, calibrationS: 60, maxDwellS: 20, integrationMs: 1000, earlyStop: true } as never;
    const e = antibunchingScanPlan.estimate!(p);
    expect(e.phases!.map((x) => x.name)).toEqual(['pre-scan', 'calibration', 'raster', 'reconstruction']);
    expect(e.upperBound).toBe(true);
    expect(e.totalMs).toBe(4 * 20 + 60_000 + 4 * 20_000 + 100);
    expect(formatDuration(e.totalMs)).toBe('2 min');
    expect(describeEstimate(e.totalMs, true, { kind: 'scaled', speed: 10 })).toBe('estimated duration: at most 2 min of experiment time, at most 14 s of wall time at ×10');
    expect(describeEstimate(e.totalMs, true, { kind: 'virtual' })).toMatch(/on the virtual clock it runs as fast as the computer allows$/);
    expect(formatDuration(2 * 3600e3 + 5 * 60e3)).toBe('2 h 5 min');
  });
});
