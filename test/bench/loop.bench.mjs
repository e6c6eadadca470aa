// `npm run bench -- loop`: event-loop delay (monitorEventLoopDelay, 1 ms resolution) of the daemon
//  1. over a whole antibunching-scan at the demo speed (virtual clock paced at 100×, as `demo.speed` in
//     config/default.yaml), its end included: the calibration's LM fit and the final maps, fits and PNGs run in
//     a worker thread (decisions 1802, 1810); alternatives in the same run: the same calibration fit and the
//     same final outputs computed on the event loop (what a session did before), from the same recorded frames;
//  2. while a client (in a worker thread, so its decoding does not share the daemon's loop) pulls the largest
//     allowed `sessions.frames` range over the ZeroMQ API (10 000 frames, cut at the 64 MiB reply cap) from a
//     recorded session of 10 000 8-KiB frames; alternative: the same frames read in one synchronous call on
//     the loop (`engine.frames`, the daemon's in-process path).
// Uses the built dist/ (`npm run build:ts` first). QSCOPE_LOOP_N (pixels per side, default 16),
// QSCOPE_LOOP_SPEED (default 100), QSCOPE_LOOP_RUNS (default 3), QSCOPE_LOOP_ONLY=scan|frames.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, from, toArray } from 'rxjs';
import { ScaledClock, VirtualClock } from '../../dist/drivers/core/clock.js';
import { SimWorld } from '../../dist/drivers/core/world.js';
import { createDefaultRegistry } from '../../dist/drivers/index.js';
import { Engine } from '../../dist/daemon/engine/engine.js';
import { SessionStore, DEFAULT_LIMITS } from '../../dist/daemon/store/index.js';
import { createDefaultPlanRegistry } from '../../dist/daemon/plans/index.js';
import { createDefaultPipelineRegistry } from '../../dist/pipelines/index.js';
import { G2Pipeline, computeFinalOutputs } from '../../dist/pipelines/antibunching/pipeline.js';
import { calibrate } from '../../dist/pipelines/antibunching/calibration.js';
import { PlanRegistry } from '../../dist/daemon/plans/index.js';
import { PipelineRegistry } from '../../dist/pipelines/core/pipeline.js';
import { DriverRegistry } from '../../dist/drivers/core/registry.js';
import { SimulatedDriver } from '../../dist/drivers/core/simulated.js';
import { ApiServer } from '../../dist/daemon/api/server.js';
import { engineTarget } from '../../dist/daemon/api/engine-target.js';
import { MAX_FRAMES_PER_REPLY } from '../../dist/daemon/api/methods.js';

const N = Number(process.env.QSCOPE_LOOP_N ?? 16);
const SPEED = Number(process.env.QSCOPE_LOOP_SPEED ?? 100);
const RUNS = Number(process.env.QSCOPE_LOOP_RUNS ?? 3);
const ONLY = process.env.QSCOPE_LOOP_ONLY; // 'scan' | 'frames'
const params = { nx: N, ny: N, prescanPixels: 8, calibrationS: 60, maxDwellS: 2 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (ns) => +(ns / 1e6).toFixed(2);
const report = (obj) => console.log(JSON.stringify({ ...obj, load1: +loadavg()[0].toFixed(1) }));
const dir = mkdtempSync(join(tmpdir(), 'qscope-bench-loop-'));
const instruments = { piezo0: { kind: 'piezo', impl: 'sim' }, hbt0: { kind: 'hbt', impl: 'sim' } };

async function rig(clock) {
  const world = new SimWorld({ seed: 1, clock, scene: { emitters: {} } });
  const drivers = await createDefaultRegistry().build(instruments, { clock, world });
  for (const d of drivers.values()) await d.connect();
  const store = new SessionStore(dir, { limits: { ...DEFAULT_LIMITS, minFreeBytes: 64 * 2 ** 20 } });
  const engine = new Engine({ clock, drivers, plans: await createDefaultPlanRegistry(), pipelines: await createDefaultPipelineRegistry(), store, config: { rig: { seed: 1, clock: 'scaled' }, instruments } });
  return { engine, drivers, store };
}

// Baseline: an idle event loop on this (shared) machine right now, for scale.
{
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await new Promise((r) => setTimeout(r, 3000));
  h.disable();
  report({ case: 'baseline: idle event loop, 3 s', loopDelayP99ms: ms(h.percentile(99)), loopDelayMaxMs: ms(h.max) });
}

if (!ONLY || ONLY === 'scan') {
  const runs = [];
  let lastSession;
  // Run 0 warms up (module loading, JIT, the first worker) and is not counted.
  for (let i = -1; i < RUNS; i++) {
    const { engine, drivers, store } = await rig(new ScaledClock(SPEED));
    const whole = monitorEventLoopDelay({ resolution: 1 });
    const end = monitorEventLoopDelay({ resolution: 1 });
    whole.enable();
    const t0 = performance.now();
    const id = await engine.start('antibunching-scan', params);
    // The end of the session: from the frame the final maps are computed on to the session's end.
    const sub = engine.frames$.subscribe((f) => f.kind === 'frame' && f.frame.header.phase === 'final' && end.enable());
    const st = await engine.whenEnded(id);
    whole.disable();
    end.disable();
    sub.unsubscribe();
    if (st.state !== 'completed') throw new Error(`session: ${st.state}: ${st.reason}`);
    if (i >= 0) runs.push({ s: (performance.now() - t0) / 1000, p99: whole.percentile(99), max: whole.max, endP99: end.percentile(99), endMax: end.max, experimentS: st.elapsedNs / 1e9 });
    lastSession = { store, id };
    await engine.stop();
    for (const d of drivers.values()) await d.disconnect();
  }
  report({
    case: `antibunching-scan ${N}×${N} at --speed ${SPEED} (paced virtual clock), whole session incl. its end; final maps in a worker`,
    wallS: +median(runs.map((r) => r.s)).toFixed(1),
    experimentS: +runs[0].experimentS.toFixed(0),
    loopDelayP99ms: ms(median(runs.map((r) => r.p99))),
    loopDelayMaxMs: ms(median(runs.map((r) => r.max))),
    endLoopDelayP99ms: ms(median(runs.map((r) => r.endP99))),
    endLoopDelayMaxMs: ms(median(runs.map((r) => r.endMax))),
  });

  // The alternative: the same final outputs computed on the event loop (what a session's end did before).
  {
    const reader = lastSession.store.open(lastSession.id);
    const frames = [...reader.frames('frames')].filter((f) => f.header.stream.endsWith('.histogram'));
    const planParams = reader.session().params;
    reader.close();
    const stalls = [];
    const calStalls = [];
    const calFrame = frames.find((f) => f.header.phase === 'calibration');
    for (let i = 0; i < RUNS; i++) {
      const p = new G2Pipeline({ clock: new VirtualClock(), sessionId: 'bench', planParams, instruments: {} });
      await firstValueFrom(from(frames).pipe(p.operator(), toArray()));
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      await new Promise((r) => setTimeout(r, 20));
      const t0 = performance.now();
      await computeFinalOutputs(p.data, p.cal, { method: planParams.method, psfFwhmNm: planParams.psfFwhmNm });
      stalls.push(performance.now() - t0);
      // The calibration fit as it ran before (on the loop), on the same recorded calibration histogram.
      const hd = calFrame.header;
      const t1 = performance.now();
      calibrate(calFrame.payload, Number(hd.counts), Number(hd.integrationS), { bins: calFrame.payload.length, binWidthNs: Number(hd.binWidthNs), zeroBin: Number(hd.zeroBin), jitterNs: Number(hd.jitterNs ?? 0) });
      calStalls.push(performance.now() - t1);
      await new Promise((r) => setTimeout(r, 20));
      h.disable();
      runs[i].altMax = h.max;
    }
    report({
      case: `alternative: the same final outputs (${N}×${N}) computed on the event loop`,
      loopStallMs: +median(stalls).toFixed(1),
    });
    report({
      case: `alternative: the same calibration fit (${planParams.calibrationS} s histogram) computed on the event loop`,
      loopStallMs: +median(calStalls).toFixed(1),
      loopDelayMaxMsFitAndMaps: ms(median(runs.map((r) => r.altMax))),
    });
  }
}

// 2. A client pulling the largest allowed sessions.frames range over the API from a large recorded session.
if (!ONLY || ONLY === 'frames') {
  const VALUES = 1024; // 8 KiB f64 frames: 10 000 of them exceed the 64 MiB reply cap
  const FRAMES = MAX_FRAMES_PER_REPLY;
  class BigSource extends SimulatedDriver {
    kind = 'hbt';
    channels = [{ name: 'trace', dtype: 'f64', unit: 'V', access: 'stream' }];
    commands = { trace: { description: 'one trace', mutating: true, params: { type: 'object' } } };
    seq = 0;
    async command_trace() {
      await this.wait(1);
      const payload = new Float64Array(VALUES);
      for (let i = 0; i < VALUES; i++) payload[i] = Math.sin(this.seq + i * 1e-3);
      this.seq++;
      return this.world.measure(`${this.id}.trace`, () => ({ payload }));
    }
  }
  const registry = new DriverRegistry().register({ kind: 'hbt', impl: 'sim', schema: { type: 'object' }, create: async (id, _c, ctx) => new BigSource(id, ctx.world) });
  const plans = new PlanRegistry().register({
    name: 'bench-traces', version: '1', description: 'N traces', roles: { source: { kind: 'hbt' } },
    params: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', unit: '1', default: 1000 } } },
    total: (p) => p.n,
    async run(ctx) {
      for (let i = 0; i < ctx.params.n; i++) await ctx.acquire('source', 'trace');
    },
  });
  const insts = { src0: { kind: 'hbt', impl: 'sim' } };
  const clock = new VirtualClock();
  const drivers = await registry.build(insts, { clock, world: new SimWorld({ seed: 1, clock }) });
  for (const d of drivers.values()) await d.connect();
  const store = new SessionStore(dir, { limits: { ...DEFAULT_LIMITS, minFreeBytes: 64 * 2 ** 20 } });
  const engine = new Engine({ clock, drivers, plans, pipelines: new PipelineRegistry(), store, config: { rig: { seed: 1 }, instruments: insts } });
  const id = await engine.start('bench-traces', { n: FRAMES });
  const st = await engine.whenEnded(id);
  if (st.state !== 'completed') throw new Error(`recording: ${st.state}: ${st.reason}`);
  const server = new ApiServer(engineTarget(engine, 'bench'), { control: 'tcp://127.0.0.1:0', data: 'tcp://127.0.0.1:0', lingerMs: 0 });
  const ep = await server.start();
  const clientUrl = new URL('../../dist/daemon/api/client.js', import.meta.url).href;
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     (async () => {
       const { QscopeClient } = await import(workerData.clientUrl);
       const c = new QscopeClient({ control: workerData.control, data: workerData.data, timeoutMs: 300000 });
       parentPort.on('message', async (m) => {
         if (m === 'stop') { await c.close(); parentPort.close(); return; }
         const r = await c.call('sessions.frames', { id: workerData.id, stream: 'src0.trace', fromSeq: 0, toSeq: 1e12, limit: workerData.limit });
         let bytes = 0;
         for (const f of r.frames) bytes += f.payload.byteLength;
         parentPort.postMessage({ frames: r.frames.length, bytes, nextSeq: r.nextSeq });
       });
       parentPort.postMessage('ready');
     })();`,
    { eval: true, workerData: { clientUrl, control: ep.control, data: ep.data, id, limit: FRAMES } },
  );
  const next = () => new Promise((r) => worker.once('message', r));
  await next(); // ready
  const pulls = [];
  for (let i = -1; i < RUNS; i++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    worker.postMessage('go');
    const got = await next();
    const s = (performance.now() - t0) / 1000;
    h.disable();
    if (i >= 0) pulls.push({ ...got, s, p99: h.percentile(99), max: h.max });
  }
  worker.postMessage('stop');
  report({
    case: `sessions.frames over the API: the largest allowed range (limit ${FRAMES}, 64 MiB cap) of ${FRAMES} × 8 KiB frames, client in a worker`,
    framesReturned: pulls[0].frames,
    MiB: +(pulls[0].bytes / 2 ** 20).toFixed(1),
    nextSeq: pulls[0].nextSeq,
    wallS: +median(pulls.map((p) => p.s)).toFixed(2),
    loopDelayP99ms: ms(median(pulls.map((p) => p.p99))),
    loopDelayMaxMs: ms(median(pulls.map((p) => p.max))),
  });
  // Alternative: the same frames read in one synchronous call on the loop.
  const stalls = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    engine.frames(id, 'src0.trace', 0, pulls[0].frames - 1, FRAMES);
    stalls.push(performance.now() - t0);
  }
  report({ case: 'alternative: the same frames read by one synchronous engine.frames call on the loop', loopStallMs: +median(stalls).toFixed(1) });
  await server.stop();
  await engine.stop();
  for (const d of drivers.values()) await d.disconnect();
}
rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 }); // a last checkpoint worker may still be closing
