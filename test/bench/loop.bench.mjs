// `npm run bench -- loop`: event-loop delay over a whole antibunching-scan at the demo speed (virtual clock
// paced at 100×, as `demo.speed` in config/default.yaml), its end included (the final maps, fits and PNGs are
// computed in a worker thread), against the alternative of computing the same final outputs on the event loop
// (measured in the same run from the same recorded frames). Uses the built dist/ (`npm run build:ts` first).
// QSCOPE_LOOP_N (pixels per side, default 16), QSCOPE_LOOP_SPEED (default 100), QSCOPE_LOOP_RUNS (default 3).
import { monitorEventLoopDelay } from 'node:perf_hooks';
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

const N = Number(process.env.QSCOPE_LOOP_N ?? 16);
const SPEED = Number(process.env.QSCOPE_LOOP_SPEED ?? 100);
const RUNS = Number(process.env.QSCOPE_LOOP_RUNS ?? 3);
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
  for (let i = 0; i < RUNS; i++) {
    const p = new G2Pipeline({ clock: new VirtualClock(), sessionId: 'bench', planParams, instruments: {} });
    await firstValueFrom(from(frames).pipe(p.operator(), toArray()));
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await computeFinalOutputs(p.data, p.cal, { method: planParams.method, psfFwhmNm: planParams.psfFwhmNm });
    stalls.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
    h.disable();
    runs[i].altMax = h.max;
  }
  report({
    case: `alternative: the same final outputs (${N}×${N}) computed on the event loop`,
    loopStallMs: +median(stalls).toFixed(1),
    loopDelayMaxMs: ms(median(runs.map((r) => r.altMax))),
  });
}
rmSync(dir, { recursive: true, force: true });
