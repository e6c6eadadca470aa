import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { EngineError } from '../../../daemon/engine/errors.js';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../../../pipelines/core/plan.js';
import { TestScanner, TestRf, sampleMask, streamPlan, type StreamParams } from './doubles.js';
import { makeEngine, tmpDir, turns } from './helpers.js';

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => {
  tmp = tmpDir();
});
afterEach(() => tmp.cleanup());

describe('engine on the four experiment shapes', () => {
  it('raster with early-stoppable dwell: a dwell ends on the stopping rule and the reason is recorded', async () => {
    const { engine } = await makeEngine(tmp.dir);
    const id = await engine.start('test-raster', { nx: 4, ny: 3, minEvents: 100, maxChunks: 7 });
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('completed');
    expect(st.progress.done).toBe(12);
    const r = engine.store.open(id);
    const ends = r.events('mark').map((e) => e.data as { type: string; data: { pixel: number; reason: string } }).filter((m) => m.type === 'dwell-end');
    expect(ends).toHaveLength(12);
    // Bright pixels (near 100,100 nm) stop on events before the budget, dark ones on the budget.
    const byEvents = ends.filter((e) => e.data.reason.startsWith('events'));
    const byBudget = ends.filter((e) => e.data.reason.startsWith('budget'));
    expect(byEvents.length).toBeGreaterThan(0);
    expect(byBudget.length).toBeGreaterThan(0);
    const frames = [...r.frames('frames')];
    const perPixel = new Map<number, number>();
    for (const f of frames) perPixel.set(f.header.pixel as number, (perPixel.get(f.header.pixel as number) ?? 0) + 1);
    for (const e of byBudget) expect(perPixel.get(e.data.pixel)).toBe(7);
    for (const e of byEvents) expect(perPixel.get(e.data.pixel)).toBeLessThanOrEqual(7);
    expect(byEvents.some((e) => perPixel.get(e.data.pixel)! < 7)).toBe(true);
    // Header contract: seq from 0 per stream, t integer ns, increasing.
    expect(frames.map((f) => f.header.seq)).toEqual(frames.map((_, i) => i));
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.header.t).toBeGreaterThan(frames[i - 1]!.header.t);
    expect(frames[0]!.header).toMatchObject({ stream: 'hbt0.histogram', dtype: 'u32', shape: [16], t: 1_000_000_000 + 1_000_000 });
    expect(r.session()).toMatchObject({ status: 'completed', plan: 'test-raster', pipeline: 'dwell', instruments: { scanner: 'piezo0', correlator: 'hbt0' } });
    expect(r.count('results')).toBe(frames.length);
    r.close();
  });

  it('adaptive batches: each batch samples exactly the points the pipeline chose, then stops on its rule', async () => {
    const { engine } = await makeEngine(tmp.dir);
    const id = await engine.start('test-adaptive', { n: 6, batch: 4, budget: 14 });
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('completed');
    expect(st.reason).toBe('stopping rule: sampled 16 ≥ budget 14');
    const r = engine.store.open(id);
    const decisions = r.events('decision').map((e) => e.data as { kind: string; value: unknown });
    const chosen = decisions.filter((d) => d.kind === 'nextPoints').flatMap((d) => d.value as { i: number; j: number }[]);
    const sampled = [...r.frames('frames')].map((f) => ({ i: f.header.i, j: f.header.j }));
    expect(sampled).toEqual(chosen);
    expect(sampled).toHaveLength(16);
    expect(new Set(sampled.map((p) => `${p.i},${p.j}`)).size).toBe(16);
    r.close();
  });

  it('continuous stream: frames flow through the pipeline until it says stop', async () => {
    const { engine } = await makeEngine(tmp.dir);
    const live = firstValueFrom(engine.frames$.pipe(filter((f) => f.kind === 'result'), take(25), toArray()));
    const id = await engine.start('test-stream', { exposureMs: 20, stopAfter: 25 });
    const st = await engine.whenEnded(id);
    expect(st).toMatchObject({ state: 'completed', frames: 25, results: 25, reason: 'stopping rule: converged after 25 frames' });
    const results = await live;
    expect(results.map((r) => r.frame.header.seq)).toEqual([...Array(25).keys()]);
    expect(results[0]!.frame.header).toMatchObject({ stream: 'stream.mean', shape: [8, 8], dtype: 'f64' });
    expect(results[24]!.frame.header.t).toBe(25 * 20 * 1e6);
  });

  it('(x,y) × rf pulse table with a sampling mask: acquires exactly the masked entries', async () => {
    const { engine, drivers } = await makeEngine(tmp.dir);
    const id = await engine.start('test-xy-rf', { nx: 4, ny: 4, pulses: 3, fraction: 0.5, seed: 3 });
    expect((await engine.whenEnded(id)).state).toBe('completed');
    const mask = sampleMask(48, 0.5, 3);
    const r = engine.store.open(id);
    const got = [...r.frames('frames')].map((f) => (f.header.pulse as number) * 16 + (f.header.pixel as number)).sort((a, b) => a - b);
    expect(got).toEqual([...mask.keys()].filter((i) => mask[i]));
    const last = [...r.frames('results')].at(-1)!;
    expect(last.header.shape).toEqual([3, 4, 4]);
    expect((drivers.get('rf0') as TestRf).rfOn).toBe(false);
    r.close();
  });
});

describe('pause, resume, abort', () => {
  for (const at of [0, 1, 5, 11]) {
    it(`pause after ${at} frames holds the plan, resume finishes with the same data as an uninterrupted run`, async () => {
      const ref = await makeEngine(tmp.dir + '-ref');
      const refId = await ref.engine.start('test-raster', { nx: 3, ny: 2 });
      await ref.engine.whenEnded(refId);
      const refFrames = [...ref.engine.store.open(refId).frames('frames')].map((f) => [...f.payload]);
      expect(refFrames.length).toBeGreaterThan(at + 1);

      const { engine, clock } = await makeEngine(tmp.dir);
      let paused = false;
      engine.frames$.subscribe((f) => {
        if (!paused && f.kind === 'frame' && f.frame.header.seq === at) {
          paused = true;
          engine.pause();
        }
      });
      const id = await engine.start('test-raster', { nx: 3, ny: 2 });
      while (!paused) await turns(1);
      expect(engine.session(id).state).toBe('paused');
      const frozenAt = engine.session(id).frames;
      const t = clock.now();
      await turns(50);
      expect(engine.session(id).frames).toBe(frozenAt);
      expect(clock.now()).toBe(t);
      engine.resume(id);
      const st = await engine.whenEnded(id);
      expect(st.state).toBe('completed');
      const r = engine.store.open(id);
      expect([...r.frames('frames')].map((f) => [...f.payload])).toEqual(refFrames);
      expect(r.events('pause')).toHaveLength(1);
      expect(r.events('resume')).toHaveLength(1);
      r.close();
    });
  }

  for (const at of [0, 3, 9]) {
    it(`abort after ${at} frames: aborted, instruments safe, frames so far recorded`, async () => {
      const { engine, drivers } = await makeEngine(tmp.dir);
      let aborting: Promise<unknown> | undefined;
      engine.frames$.subscribe((f) => {
        if (!aborting && f.kind === 'frame' && f.frame.header.seq === at) aborting = engine.abort();
      });
      const id = await engine.start('test-xy-rf', { nx: 4, ny: 4, pulses: 3 });
      const st = await engine.whenEnded(id);
      expect(st.state).toBe('aborted');
      expect(st.reason).toBe('aborted by request');
      expect(st.frames).toBe(at + 1);
      expect((drivers.get('rf0') as TestRf).rfOn).toBe(false);
      expect((drivers.get('piezo0') as TestScanner).safed).toBe(1);
      const r = engine.store.open(id);
      expect(r.session().status).toBe('aborted');
      expect(r.count('frames')).toBe(at + 1);
      r.close();
      expect(engine.status().state).toBe('idle');
    });
  }

  it('abort while paused ends the session; pause/resume in the wrong state are typed errors', async () => {
    const { engine } = await makeEngine(tmp.dir);
    expect(() => engine.pause()).toThrow(EngineError);
    const id = await engine.start('test-stream', { stopAfter: 1000, maxFrames: 1000 });
    engine.pause();
    expect(() => engine.pause()).toThrow(/not running/);
    const st = await engine.abort(id);
    expect(st.state).toBe('aborted');
    expect(() => engine.resume()).toThrow(expect.objectContaining({ code: 'NO_SESSION' }));
  });

  it('abort interrupts a long acquisition step at once', async () => {
    const { engine, clock } = await makeEngine(tmp.dir);
    const id = await engine.start('test-stream', { exposureMs: 60_000, maxFrames: 3, stopAfter: 3 });
    let aborted: Promise<unknown> | undefined;
    clock.scheduler.schedule(() => {
      aborted = engine.abort(id);
    }, 30_000);
    const st = await engine.whenEnded(id);
    await aborted;
    expect(st.state).toBe('aborted');
    expect(st.frames).toBe(0);
    expect(st.elapsedNs).toBe(30_000 * 1e6);
  });
});

describe('ownership, faults, params', () => {
  it('a mutating direct call to an owned instrument is refused; reads and free instruments are allowed', async () => {
    const { engine } = await makeEngine(tmp.dir);
    const id = await engine.start('test-raster', { nx: 2, ny: 2 });
    await expect(engine.callInstrument('piezo0', 'moveTo', { xNm: 0, yNm: 0 })).rejects.toMatchObject({ code: 'INSTRUMENT_OWNED' });
    await expect(engine.callInstrument('piezo0', 'position', {})).resolves.toBeDefined();
    await expect(engine.callInstrument('rf0', 'off', {})).resolves.toBeUndefined();
    expect(engine.status().instruments.find((i) => i.id === 'hbt0')?.owner).toBe(id);
    await expect(engine.start('test-stream', {})).rejects.toMatchObject({ code: 'SESSION_RUNNING' });
    // An unknown plan is reported as such even while a session runs, with a did-you-mean.
    await expect(engine.start('test-rastr', {})).rejects.toMatchObject({ code: 'UNKNOWN_PLAN', message: expect.stringMatching(/^unknown plan 'test-rastr' \(did you mean 'test-raster'\? plans: /) });
    await engine.whenEnded(id);
    await expect(engine.callInstrument('piezo0', 'moveTo', { xNm: 1, yNm: 2 })).resolves.toBeUndefined();
    await expect(engine.callInstrument('piezo0', 'moveTo', { xNm: 'a' })).rejects.toMatchObject({
      code: 'BAD_PARAMS',
      message: "params: missing required parameter 'yNm'; params.xNm: must be number",
    });
    await expect(engine.callInstrument('nope', 'x')).rejects.toMatchObject({ code: 'UNKNOWN_INSTRUMENT' });
  });

  it('two starts racing (the first awaiting its pipeline factory) run one session; the other is refused', async () => {
    const { engine } = await makeEngine(tmp.dir);
    const both = await Promise.allSettled([engine.start('test-stream', { stopAfter: 2 }), engine.start('test-stream', { stopAfter: 2 })]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'SESSION_RUNNING' });
    const id = (both.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<string>).value;
    expect((await engine.whenEnded(id)).state).toBe('completed');
    expect(engine.listSessions()).toHaveLength(1);
  });

  it('no session starts once stop() has begun, even one whose start was already in flight', async () => {
    const { engine } = await makeEngine(tmp.dir);
    const inFlight = engine.start('test-stream', { stopAfter: 1000 });
    const stopped = engine.stop();
    await expect(engine.start('test-stream', {})).rejects.toMatchObject({ code: 'BAD_STATE' });
    await stopped;
    const id = await inFlight;
    expect(engine.session(id).state).toBe('aborted');
  });

  it('a driver fault mid-session fails it with the reason recorded and the data intact', async () => {
    const { engine } = await makeEngine(tmp.dir, { faults: { hbt0: { disconnectAtMs: 5500 } } });
    const id = await engine.start('test-raster', { nx: 3, ny: 3 });
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/^fault: hbt0: instrument disconnected \(fault injected at 5500 ms\)/);
    const r = engine.store.open(id);
    expect(r.session()).toMatchObject({ status: 'failed', reason: st.reason });
    expect(r.count('frames')).toBe(st.frames);
    expect(st.frames).toBeGreaterThan(0);
    expect(r.events('fault').length).toBeGreaterThan(0);
    expect(r.events('state').some((e) => (e.data as { state: string }).state === 'fault')).toBe(true);
    expect(r.integrity()).toBe('ok');
    r.close();
  });

  it('a timeout fault in a suspend-on-fault plan suspends; resume reconnects and retries the step', async () => {
    const { engine } = await makeEngine(tmp.dir, { faults: { hbt0: { timeoutAtOperation: 2, timeoutMs: 500 } } });
    const plans = (engine as unknown as { plans: import('../../../daemon/plans/index.js').PlanRegistry }).plans;
    const { rasterPlan } = await import('./doubles.js');
    plans.register({ ...rasterPlan, name: 'test-raster-suspend', onFault: 'suspend' });
    const suspended = firstValueFrom(engine.events$.pipe(filter((e) => e.type === 'suspended')));
    const id = await engine.start('test-raster-suspend', { nx: 2, ny: 1, minEvents: 100000, maxChunks: 3 });
    const ev = await suspended;
    expect(ev.status.state).toBe('suspended');
    expect(ev.status.reason).toMatch(/timed out/);
    engine.resume(id);
    const st = await engine.whenEnded(id);
    expect(st.state).toBe('completed');
    expect(st.frames).toBe(6);
  });

  it('params are validated and coerced by the plan schema with precise errors', async () => {
    const { engine } = await makeEngine(tmp.dir);
    await expect(engine.start('test-raster', { nx: 0 })).rejects.toThrow('params.nx: must be >= 1');
    await expect(engine.start('test-raster', { nz: 2 })).rejects.toThrow("params: unknown parameter 'nz'");
    await expect(engine.start('test-raster', { nx: 'many' })).rejects.toMatchObject({ code: 'BAD_PARAMS', message: 'params.nx: must be integer' });
    await expect(engine.start('nope', {})).rejects.toMatchObject({ code: 'UNKNOWN_PLAN' });
    const id = await engine.start('test-raster', { nx: '2', ny: '1' });
    expect((await engine.whenEnded(id)).progress.done).toBe(2);
    expect(engine.describePlan('test-raster').params.find((p) => p.name === 'chunkMs')).toEqual({ name: 'chunkMs', type: 'number', unit: 'ms', default: 1000, required: false });
  });

  it('a pipeline error fails the session with the pipeline named', async () => {
    const { engine } = await makeEngine(tmp.dir);
    const pipelines = (engine as unknown as { pipelines: import('../../../pipelines/core/pipeline.js').PipelineRegistry }).pipelines;
    const { map } = await import('rxjs');
    pipelines.register({
      name: 'broken', version: '1', description: '',
      create: () => ({ name: 'broken', version: '1', operator: () => map(() => { throw new Error('bad frame'); }) }),
    });
    const id = await engine.start('test-stream', {}, { pipeline: 'broken' });
    const st = await engine.whenEnded(id);
    expect(st).toMatchObject({ state: 'failed', reason: 'pipeline broken: bad frame' });
  });

  it('serves recorded frames and results by stream and seq range, and stores the session metadata', async () => {
    const { engine } = await makeEngine(tmp.dir);
    const id = await engine.start('test-stream', { stopAfter: 6 }, { metadata: { sample: 'NV-3', operator: 'ada', notes: 'n' } });
    await engine.whenEnded(id);
    expect(engine.frames(id, 'cam0.frame', 2, 4).map((f) => f.header.seq)).toEqual([2, 3, 4]);
    const res = engine.frames(id, 'stream.mean', 5, 99);
    expect(res).toHaveLength(1);
    expect(res[0]!.header).toMatchObject({ stream: 'stream.mean', seq: 5, shape: [8, 8] });
    expect(() => engine.frames(id, 'nope', 0, 1)).toThrow(expect.objectContaining({ code: 'UNKNOWN_STREAM', message: expect.stringMatching(/no stream 'nope'/) }));
    expect(() => engine.frames('no-such-session', 'cam0.frame', 0, 1)).toThrow(expect.objectContaining({ code: 'UNKNOWN_SESSION' }));
    expect(engine.session(id)).toMatchObject({ id, state: 'completed', frames: 6, results: 6 });
    const r = engine.store.open(id);
    expect(r.session()).toMatchObject({
      metadata: { sample: 'NV-3', operator: 'ada', notes: 'n' },
      softwareVersion: 'test',
      clock: 'virtual',
      config: { rig: { seed: 7, clock: 'virtual' } },
      planVersion: '1',
      pipeline: 'stream',
      pipelineVersion: '1',
    });
    expect(r.session().startedAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(r.events('command')).toHaveLength(6);
    expect(r.events('reply')).toHaveLength(0);
    r.close();
    expect(engine.listSessions().map((s) => s.id)).toEqual([id]);
  });

  it('hashes the models a plan declares into the session metadata at start; an unreadable model refuses the start', async () => {
    // A two-shard model: the hash covers model.json and the shards its manifest lists, in file-name order.
    const dir = join(tmp.dir, 'model');
    mkdirSync(dir);
    const files: Record<string, Buffer> = {
      'model.json': Buffer.from(JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['group1-shard2of2.bin', 'group1-shard1of2.bin'], weights: [] }] })),
      'group1-shard1of2.bin': Buffer.from([1, 2, 3]),
      'group1-shard2of2.bin': Buffer.from([4, 5]),
      'MODEL.md': Buffer.from('notes are not part of the model'),
    };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    const expected = createHash('sha256').update(files['group1-shard1of2.bin']!).update(files['group1-shard2of2.bin']!).update(files['model.json']!).digest('hex');
    const withModel = (name: string, modelDir: string): Plan<never> =>
      ({ ...streamPlan, name, models: () => ({ net: { dir: modelDir, tfBackend: 'wasm' } }) }) satisfies Plan<StreamParams> as unknown as Plan<never>;
    const { engine } = await makeEngine(tmp.dir, { extraPlans: [withModel('test-model', dir), withModel('test-no-model', join(tmp.dir, 'absent'))] });

    const meta = (sid: string) => {
      const r = engine.store.open(sid);
      try {
        return r.session();
      } finally {
        r.close();
      }
    };
    const id = await engine.start('test-model', { stopAfter: 3 });
    expect(meta(id)).toMatchObject({ modelHashes: { net: expected }, tfBackend: 'wasm' }); // at start, before the pipeline loads anything
    await engine.whenEnded(id);
    writeFileSync(join(dir, 'MODEL.md'), 'edited notes');
    const again = await engine.start('test-model', { stopAfter: 3 });
    await engine.whenEnded(again);
    expect(meta(again).modelHashes).toEqual({ net: expected });

    await expect(engine.start('test-no-model', {})).rejects.toMatchObject({ code: 'MODEL_FILE', message: expect.stringMatching(/plan test-no-model: model net: .*absent: cannot read model file model\.json/) });
    expect(engine.listSessions()).toHaveLength(2);
    // Plans without models record neither.
    const plain = await engine.start('test-stream', { stopAfter: 2 });
    await engine.whenEnded(plain);
    expect(meta(plain)).toMatchObject({ modelHashes: null, tfBackend: null });
  });

  it('back-pressure: with a tiny store queue the engine waits for the disk and records every frame', async () => {
    const { DEFAULT_LIMITS } = await import('../../../daemon/store/writer.js');
    const { engine } = await makeEngine(tmp.dir, { store: { limits: { ...DEFAULT_LIMITS, minFreeBytes: 1, maxQueueItems: 6, batchItems: 100 } } });
    const writers: { full: boolean }[] = [];
    let sawFull = 0;
    engine.frames$.subscribe(() => {
      const run = (engine as unknown as { current: { d: { writer: { full: boolean } } } }).current;
      writers.push(run.d.writer);
      if (run.d.writer.full) sawFull++;
    });
    const id = await engine.start('test-stream', { stopAfter: 40, maxFrames: 40 });
    const st = await engine.whenEnded(id);
    expect(st).toMatchObject({ state: 'completed', frames: 40, results: 40 });
    expect(sawFull).toBeGreaterThan(0);
    const r = engine.store.open(id);
    expect([...r.frames('frames')].map((f) => f.header.seq)).toEqual([...Array(40).keys()]);
    expect(r.count('results')).toBe(40);
    r.close();
  });
});

