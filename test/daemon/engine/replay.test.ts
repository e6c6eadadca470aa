import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { clockFor, parseSpeed, replaySession } from '../../../daemon/engine/replay.js';
import { PlanRegistry } from '../../../daemon/plans/index.js';
import { TestScanner, rasterPlan } from './doubles.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { DEFAULT_LIMITS } from '../../../daemon/store/writer.js';
import { GridPipeline, testDriverRegistry, testPipelines, testPlans } from './doubles.js';
import { makeEngine, tmpDir } from './helpers.js';

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => {
  tmp = tmpDir();
});
afterEach(() => tmp.cleanup());

async function record(plan: string, params: Record<string, unknown>, opts: Parameters<typeof makeEngine>[1] = {}) {
  const { engine } = await makeEngine(tmp.dir, opts);
  const id = await engine.start(plan, params);
  return { id, status: await engine.whenEnded(id) };
}

function replayOpts(source: string, extra: Partial<Parameters<typeof replaySession>[0]> = {}) {
  const store = new SessionStore(tmp.dir, { limits: { ...DEFAULT_LIMITS, minFreeBytes: 1 } });
  return { source, sourceStore: store, store, registry: testDriverRegistry(), plans: testPlans(), pipelines: testPipelines(), speed: 'max' as const, ...extra };
}

describe('replay', () => {
  for (const [plan, params] of [
    ['test-raster', { nx: 3, ny: 3 }],
    ['test-adaptive', { n: 6, batch: 3, budget: 12 }],
    ['test-stream', { stopAfter: 30 }],
    ['test-xy-rf', { nx: 3, ny: 3, pulses: 2 }],
  ] as const) {
    it(`${plan}: replays bit-identically (frames, results, decisions, timing) and is recorded as a session naming its source`, async () => {
      const rec = await record(plan, params);
      expect(rec.status.state).toBe('completed');
      const report = await replaySession(replayOpts(rec.id));
      expect(report.mode).toBe('plan');
      expect(report.status.state).toBe('completed');
      // Every measurement came from the recording, none from the physics.
      expect(report.delivered).toBe(rec.status.frames);
      expect(report.mismatches).toEqual([]);
      expect(report.frames).toMatchObject({ identical: true, differences: [] });
      expect(report.results).toMatchObject({ identical: true, differences: [] });
      expect(report.environment).toEqual([]);
      expect(report.results.compared).toBe(rec.status.results);
      const store = new SessionStore(tmp.dir);
      const r = store.open(report.id);
      expect(r.session()).toMatchObject({ source: { replayOf: rec.id }, plan, status: 'completed' });
      r.close();
    });
  }

  it('replays an aborted session up to where it ended', async () => {
    const { engine } = await makeEngine(tmp.dir);
    engine.frames$.subscribe((f) => {
      if (f.kind === 'frame' && f.frame.header.seq === 6) void engine.abort();
    });
    const id = await engine.start('test-raster', { nx: 3, ny: 3 });
    expect((await engine.whenEnded(id)).state).toBe('aborted');
    const report = await replaySession(replayOpts(id));
    expect(report.status).toMatchObject({ state: 'completed', reason: 'end of recording', frames: 7 });
    expect(report.frames.identical).toBe(true);
    expect(report.results.identical).toBe(true);
  });

  it('a pipeline that chooses differently: the differences are reported and the recorded choices followed', async () => {
    const rec = await record('test-adaptive', { n: 6, batch: 3, budget: 9 });
    const pipelines = testPipelines().register({
      name: 'grid-reversed',
      version: '1',
      description: 'asks for the points in reverse order',
      create: (c) => {
        const g = new GridPipeline(c);
        return { name: 'grid', version: '2', operator: () => g.operator(), shouldStop: (s: unknown) => g.shouldStop(s), nextPoints: (k: number) => g.nextPoints(k).reverse() };
      },
    });
    const report = await replaySession(replayOpts(rec.id, { pipelines, pipeline: 'grid-reversed' }));
    expect(report.mismatches.length).toBeGreaterThan(0);
    expect(report.mismatches[0]).toMatchObject({ kind: 'nextPoints', arg: 3 });
    expect(report.environment).toEqual(['pipeline version: recorded "1", replay "2"']);
    expect(report.status.mismatches).toBe(report.mismatches.length);
    // Followed the recording: same points, same frames.
    expect(report.frames.identical).toBe(true);
    expect(report.results.differences).toEqual(['a different pipeline ran: results not compared']);
  });

  it('frames-only replay (no plan available) plays every frame in recorded order and timing', async () => {
    const rec = await record('test-xy-rf', { nx: 3, ny: 3, pulses: 2 });
    const report = await replaySession(replayOpts(rec.id, { framesOnly: true }));
    expect(report.mode).toBe('frames');
    expect(report.status).toMatchObject({ state: 'completed', reason: 'end of recording', frames: rec.status.frames });
    expect(report.frames.identical).toBe(true);
    expect(report.results.identical).toBe(true);
  });

  it('a pipeline change that alters results is caught by the comparison', async () => {
    const rec = await record('test-stream', { stopAfter: 5 });
    const pipelines = testPipelines();
    const { StreamPipeline } = await import('./doubles.js');
    (pipelines as unknown as { factories: Map<string, unknown> }).factories.set('stream', {
      name: 'stream', version: '1', description: '',
      create: (c: never) => {
        const p = new StreamPipeline(c);
        return { name: 'stream', version: '1', shouldStop: () => p.shouldStop(), operator: () => (src: never) => p.operator()(src).pipe(map((o) => ({ ...o, payload: o.payload.map((v) => v + 1e-12) }))) };
      },
    });
    const report = await replaySession(replayOpts(rec.id, { pipelines }));
    expect(report.frames.identical).toBe(true);
    expect(report.results.identical).toBe(false);
    expect(report.results.differences[0]).toMatch(/^stream\.mean#0: payload differs from byte/);
  });

  it('command replies are replayed from the recording (a read-back that differs now does not change the replay)', async () => {
    const plans = testPlans().register({
      ...rasterPlan,
      name: 'test-readback',
      async run(ctx) {
        for (let pixel = 0; pixel < 3; pixel++) {
          await ctx.call('scanner', 'moveTo', { xNm: pixel * 50, yNm: 0 });
          const at = (await ctx.call('scanner', 'position')) as number[];
          await ctx.acquire('correlator', 'histogram', { integrationMs: 100 }, { fields: { pixel, at } });
        }
      },
    });
    const { engine } = await makeEngine(tmp.dir);
    (engine as unknown as { plans: PlanRegistry }).plans.register(plans.get('test-readback'));
    const id = await engine.start('test-readback', {});
    await engine.whenEnded(id);
    // The replayed rig's scanner reads back 1 µm off: its fresh replies differ from the recorded ones.
    const registry = testDriverRegistry();
    const factories = (registry as unknown as { factories: Map<string, { create: unknown }> }).factories;
    factories.get('piezo/sim')!.create = async (rid: string, _c: unknown, ctx: { world: never }) =>
      Object.assign(new TestScanner(rid, ctx.world), { command_position: async () => [1000, 1000, 1000] });
    const report = await replaySession(replayOpts(id, { registry, plans }));
    expect(report.frames).toMatchObject({ identical: true });
    const store = new SessionStore(tmp.dir);
    const r = store.open(report.id);
    expect([...r.frames('frames')].map((f) => f.header.at)).toEqual([[0, 0, 0], [50, 0, 0], [100, 0, 0]]);
    expect(r.events('reply').filter((e) => (e.data as { command: string }).command === 'position')).toHaveLength(3);
    r.close();
  });

  it('--speed: max runs on the virtual clock, realtime and factors on a scaled clock; anything else is refused', () => {
    expect(parseSpeed('max')).toBe('max');
    expect(parseSpeed('realtime')).toBe('realtime');
    expect(parseSpeed('2.5')).toBe(2.5);
    expect(() => parseSpeed('0')).toThrow("--speed: must be realtime, max or a number > 0, got '0'");
    expect(() => parseSpeed('fast')).toThrow(/--speed/);
    expect(clockFor('max').kind).toBe('virtual');
    expect(clockFor('realtime')).toMatchObject({ kind: 'scaled', speed: 1 });
    expect(clockFor(10)).toMatchObject({ kind: 'scaled', speed: 10 });
  });
});

