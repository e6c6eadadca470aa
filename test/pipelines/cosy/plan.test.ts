import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cosyRig, tmpDir } from './helpers.js';
import { CosyPipeline, type NextSamplesKernel } from '../../../pipelines/cosy/pipeline.js';
import { PipelineRegistry, type PipelineFactory } from '../../../pipelines/core/pipeline.js';
import { replaySession } from '../../../daemon/engine/replay.js';
import { PlanRegistry } from '../../../daemon/plans/index.js';
import { cosy2dPlan } from '../../../pipelines/cosy/plan.js';
import { cosyPipelineFactory } from '../../../pipelines/cosy/pipeline.js';
import { createDefaultRegistry } from '../../../drivers/index.js';

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => (tmp = tmpDir()));
afterEach(() => tmp.cleanup());

type Point = { i: number; j: number };

describe('plan cosy-2d on the virtual clock', () => {
  it('records every point, batch decision and reconstruction, and stops early when the map stops changing', async () => {
    const { engine, clock } = await cosyRig(tmp.dir);
    const t0 = clock.now();
    const id = await engine.start('cosy-2d', { n1: 24, n2: 24, method: 'orig', strategy: 'uniform', initialFraction: 0.1, batchFraction: 0.05, budgetFraction: 0.9, tol: 0.6, minBatches: 2, readouts: 20000 });
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('completed');
    expect(st.reason).toMatch(/^stopping rule: converged: reconstruction changed/);
    const r = engine.store.open(id);
    const frames = [...r.frames('frames')];
    const decisions = r.events('decision').map((e) => e.data as { kind: string; value: unknown });
    const chosen = decisions.filter((d) => d.kind === 'nextPoints').flatMap((d) => d.value as Point[]);
    // Every chosen point measured, in order, once; nothing else measured.
    expect(frames.map((f) => ({ i: f.header.i, j: f.header.j }))).toEqual(chosen);
    expect(new Set(chosen.map((p) => `${p.i},${p.j}`)).size).toBe(chosen.length);
    expect(frames.length).toBeLessThan(0.9 * 24 * 24); // stopped before the budget
    expect(frames[0]!.header).toMatchObject({ stream: 'odmr0.population', dtype: 'f64', t1Us: 4 + 18 * (frames[0]!.header.i as number) });
    // One reconstruction (map, spectrum, mask, metrics) per batch, one stop decision per batch.
    const batches = r.events('mark').filter((e) => (e.data as { type: string }).type === 'batch').length;
    const results = [...r.frames('results')];
    for (const name of ['map', 'spectrum', 'mask', 'metrics']) expect(results.filter((f) => f.header.stream === `cosy.${name}`)).toHaveLength(batches);
    expect(decisions.filter((d) => d.kind === 'shouldStop')).toHaveLength(batches);
    const lastMask = results.filter((f) => f.header.stream === 'cosy.mask').at(-1)!;
    expect([...lastMask.payload].reduce((a, b) => a + b, 0)).toBe(frames.length);
    // Experiment time: every point costs readouts × (overhead + t1 + t2).
    const expectedMs = frames.reduce((s, f) => s + (20000 * (170 + (f.header.t1Us as number) + (f.header.t2Us as number))) / 1000, 0);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(expectedMs);
    r.close();
  });

  it('stops at the budget when the tolerance is never met, and asks the sampling kernel for every later batch', async () => {
    const calls: { k: number; sampled: number }[] = [];
    // A deterministic stand-in for native nextSamples: the first k free points in row order.
    const kernel: NextSamplesKernel = (mask, recon, m, n, k) => {
      expect(recon).toHaveLength(m * n);
      calls.push({ k, sampled: mask.reduce((a, b) => a + b, 0) });
      const out: number[] = [];
      for (let q = 0; q < mask.length && out.length < k; q++) if (!mask[q]) out.push(q);
      return Uint32Array.from(out);
    };
    const factory: PipelineFactory = { name: 'cosy', version: '1', description: 'test', create: (ctx) => new CosyPipeline(ctx, { nextSamples: kernel }) };
    const { engine } = await cosyRig(tmp.dir, { pipeline: factory });
    const id = await engine.start('cosy-2d', { n1: 16, n2: 16, method: 'orig', strategy: 'leverage', initialFraction: 0.1, batchFraction: 0.1, budgetFraction: 0.5, tol: 1e-9, readouts: 1000 });
    const st = await engine.whenEnded(id);
    expect(st.reason).toMatch(/^stopping rule: budget: 128 of 128 points/);
    expect(calls.map((c) => c.sampled)).toEqual([26, 52, 78, 104]);
    expect(calls.at(-1)!.k).toBe(24); // the last batch is trimmed to the budget
    const r = engine.store.open(id);
    expect(r.count('frames')).toBe(128);
    r.close();
  });

  it('replays bit-identically: recorded measurements, the same batch choices, the same reconstructions', async () => {
    const { engine, store } = await cosyRig(tmp.dir);
    const id = await engine.start('cosy-2d', { n1: 12, n2: 12, method: 'orig', strategy: 'uniform', initialFraction: 0.15, batchFraction: 0.1, budgetFraction: 0.5, tol: 1e-9, readouts: 1000 });
    const rec = await engine.whenEnded(id);
    const report = await replaySession({ source: id, sourceStore: store, store, registry: createDefaultRegistry(), plans: new PlanRegistry().register(cosy2dPlan), pipelines: new PipelineRegistry().register(cosyPipelineFactory), speed: 'max' });
    expect(report.mode).toBe('plan');
    expect(report.status.state).toBe('completed');
    expect(report.delivered).toBe(rec.frames);
    expect(report.mismatches).toEqual([]);
    expect(report.frames).toMatchObject({ identical: true });
    expect(report.results).toMatchObject({ identical: true, compared: rec.results });
  });

  it('default method (DLMC, DLNet in a worker thread) with native leverage sampling: adaptive batches on the virtual clock', async () => {
    const { engine, clock } = await cosyRig(tmp.dir);
    const id = await engine.start('cosy-2d', { initialFraction: 0.04, batchFraction: 0.01, budgetFraction: 0.07, readouts: 10000 });
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('completed');
    expect(st.reason).toMatch(/^stopping rule: (budget|converged)/);
    const r = engine.store.open(id);
    expect(r.session()).toMatchObject({ pipeline: 'cosy', tfBackend: 'wasm' });
    expect(Object.keys(r.session().modelHashes ?? {})).toEqual(['dlnet']);
    const frames = [...r.frames('frames')];
    const chosen = r.events('decision').map((e) => e.data as { kind: string; value: unknown }).filter((d) => d.kind === 'nextPoints').flatMap((d) => d.value as Point[]);
    expect(frames.map((f) => ({ i: f.header.i, j: f.header.j }))).toEqual(chosen);
    expect(frames.length).toBeGreaterThanOrEqual(100 + 25);
    const maps = [...r.frames('results', 'cosy.map')];
    expect(maps.length).toBeGreaterThanOrEqual(2);
    expect(maps.at(-1)!.header).toMatchObject({ method: 'dlmc', shape: [50, 50] });
    // Every batch's reconstruction was checked on held-out samples (DL, DLMC, MC, soft-impute) and the best used.
    for (const m of maps) {
      expect(['dlmc', 'dl', 'mc', 'softimpute']).toContain(m.header.chosen);
      expect(Object.keys(m.header.heldOutErrors as object).sort()).toEqual(['dl', 'dlmc', 'mc', 'softimpute']);
    }
    expect(clock.now()).toBeGreaterThan(frames.length * 10000 * 0.17);
    r.close();
  });
});

