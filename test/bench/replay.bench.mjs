// `npm run bench -- replay`: replay rate at --speed max through the full path (replay source → driver or
// generic replay driver → engine step → frame stamped with its recorded time → recorded into a new session),
// then the bit-for-bit comparison of both recordings. Records one session of N 215-bin histograms first
// (the same plan and driver as `npm run bench -- store`). Uses the built dist/ (`npm run build:ts` first).
// Profile of the replay alone (not the recording, not the comparison): QSCOPE_BENCH_PROFILE=out.cpuprofile
// QSCOPE_BENCH_ONLY=plan QSCOPE_BENCH_RUNS=1 npm run bench -- replay (open the file in Chrome DevTools).
// Before/after in the same run: QSCOPE_BENCH_BEFORE=/path/to/other/dist runs this script alternately on that
// build and on ours, one child process per run (QSCOPE_BENCH_RUNS each), and reports the medians of both.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BEFORE = process.env.QSCOPE_BENCH_BEFORE;
if (BEFORE && !process.env.QSCOPE_BENCH_DIST) {
  const runs = Number(process.env.QSCOPE_BENCH_RUNS ?? 3);
  const ours = fileURLToPath(new URL('../../dist', import.meta.url));
  const lines = [];
  for (let i = 0; i < runs; i++) {
    for (const [label, dist] of [['before', resolve(BEFORE)], ['now', ours]]) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, QSCOPE_BENCH_DIST: dist, QSCOPE_BENCH_RUNS: '1' }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${label} run failed: ${r.stderr}`);
      for (const l of r.stdout.split('\n').filter((x) => x.startsWith('{'))) lines.push({ label, ...JSON.parse(l) });
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const c of [...new Set(lines.map((l) => l.case))]) {
    const of = (label, k) => med(lines.filter((l) => l.case === c && l.label === label).map((l) => l[k]));
    const row = { case: c, runs };
    for (const k of ['framesPerSec', 'framesPerCpuSec', 'compareFramesPerSec', 'framesPerSecInclComparison']) row[k] = { before: of('before', k), now: of('now', k), ratio: +(of('now', k) / of('before', k)).toFixed(2) };
    console.log(JSON.stringify({ ...row, load1: +loadavg()[0].toFixed(1) }));
  }
  process.exit(0);
}
const DIST = pathToFileURL(resolve(process.env.QSCOPE_BENCH_DIST ?? fileURLToPath(new URL('../../dist', import.meta.url)))).href;
const { SessionStore, DEFAULT_LIMITS } = await import(`${DIST}/daemon/store/index.js`);
const { Engine } = await import(`${DIST}/daemon/engine/engine.js`);
const { replaySession } = await import(`${DIST}/daemon/engine/replay.js`);
const { PlanRegistry } = await import(`${DIST}/daemon/plans/index.js`);
const { PipelineRegistry } = await import(`${DIST}/pipelines/core/pipeline.js`);
const { VirtualClock } = await import(`${DIST}/drivers/core/clock.js`);
const { DriverRegistry } = await import(`${DIST}/drivers/core/registry.js`);
const { SimulatedDriver } = await import(`${DIST}/drivers/core/simulated.js`);
const { SimWorld } = await import(`${DIST}/drivers/core/world.js`);

const BINS = 215;
const N = Number(process.env.QSCOPE_BENCH_FRAMES ?? 50_000);
const RUNS = Number(process.env.QSCOPE_BENCH_RUNS ?? 3);
const ONLY = process.env.QSCOPE_BENCH_ONLY; // 'plan' | 'frames'
const dir = mkdtempSync(join(tmpdir(), 'qscope-bench-replay-'));
const limits = { ...DEFAULT_LIMITS, minFreeBytes: 64 * 2 ** 20 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const report = (obj) => console.log(JSON.stringify({ ...obj, load1: +loadavg()[0].toFixed(1) }));

function histogram(seq) {
  const h = new Uint32Array(BINS);
  for (let i = 0; i < BINS; i++) h[i] = (seq + i * 7) & 0xff;
  return h;
}

class BenchCorrelator extends SimulatedDriver {
  kind = 'hbt';
  channels = [{ name: 'histogram', dtype: 'u32', unit: 'counts', access: 'stream' }];
  commands = { histogram: { description: 'one histogram', mutating: true, params: { type: 'object' } } };
  seq = 0;
  async command_histogram() {
    await this.wait(1);
    return this.world.measure(`${this.id}.histogram`, () => ({ payload: histogram(this.seq++) }));
  }
}
const registry = new DriverRegistry().register({ kind: 'hbt', impl: 'sim', schema: { type: 'object' }, create: async (id, _c, ctx) => new BenchCorrelator(id, ctx.world) });
const plan = {
  name: 'bench-histograms', version: '1', description: 'N histograms', roles: { correlator: { kind: 'hbt' } },
  params: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', unit: '1', default: 1000 } } },
  total: (p) => p.n,
  async run(ctx) {
    for (let i = 0; i < ctx.params.n; i++) await ctx.acquire('correlator', 'histogram', {}, { fields: { pixel: i >> 6 } });
  },
};
const plans = new PlanRegistry().register(plan);
const instruments = { hbt0: { kind: 'hbt', impl: 'sim' } };

const clock = new VirtualClock();
const drivers = await registry.build(instruments, { clock, world: new SimWorld({ seed: 1, clock }) });
for (const d of drivers.values()) await d.connect();
const engine = new Engine({ clock, drivers, plans, pipelines: new PipelineRegistry(), store: new SessionStore(dir, { limits }), config: { rig: { seed: 1 }, instruments } });
const source = await engine.start('bench-histograms', { n: N });
await engine.whenEnded(source);

for (const framesOnly of [false, true]) {
  if (ONLY && ONLY !== (framesOnly ? 'frames' : 'plan')) continue;
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const store = new SessionStore(dir, { limits });
    let profiler;
    if (process.env.QSCOPE_BENCH_PROFILE) {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    let cpuReplay;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const rep = await replaySession({
      source, sourceStore: store, store, registry, plans, pipelines: new PipelineRegistry(), speed: 'max', framesOnly,
      onEngine: (engine, id) => void engine.whenEnded(id).then(async () => {
        cpuReplay = process.cpuUsage(cpu0);
        if (profiler) writeFileSync(process.env.QSCOPE_BENCH_PROFILE, JSON.stringify((await profiler.post('Profiler.stop')).profile));
      }),
    });
    if (!rep.frames.identical || rep.frames.compared !== N) throw new Error(`replay not identical: ${rep.frames.differences.join('; ')}`);
    runs.push({ s: (performance.now() - t0) / 1000, rep, cpuS: (cpuReplay.user + cpuReplay.system) / 1e6 });
  }
  report({
    case: `replay --speed max, ${framesOnly ? 'frame by frame' : 'plan re-run through the driver'} (recorded as a new session)`,
    frames: N,
    identical: true,
    framesPerSec: Math.round(median(runs.map((r) => N / (r.rep.wallMs.replay / 1000)))),
    // CPU time of this process (all threads) until the replay session ended: less sensitive to a loaded machine.
    framesPerCpuSec: Math.round(median(runs.map((r) => N / r.cpuS))),
    compareFramesPerSec: Math.round(median(runs.map((r) => N / (r.rep.wallMs.compare / 1000)))),
    framesPerSecInclComparison: Math.round(median(runs.map((r) => N / r.s))),
  });
}
rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 }); // a last checkpoint worker may still be closing
