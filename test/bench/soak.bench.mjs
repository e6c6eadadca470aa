// `npm run bench -- soak`: hundreds of back-to-back antibunching-scan sessions (8×8, virtual clock) through
// one engine, as a daemon runs them for months. After each session (and a full GC) it prints RSS and heap;
// the goal is a flat line after warm-up. Uses the built dist/ (`npm run build:ts` first).
// QSCOPE_SOAK_SESSIONS (default 300), QSCOPE_SOAK_N (pixels per side, default 8).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { VirtualClock } from '../../dist/drivers/core/clock.js';
import { SimWorld } from '../../dist/drivers/core/world.js';
import { createDefaultRegistry } from '../../dist/drivers/index.js';
import { Engine } from '../../dist/daemon/engine/engine.js';
import { SessionStore, DEFAULT_LIMITS } from '../../dist/daemon/store/index.js';
import { createDefaultPlanRegistry } from '../../dist/daemon/plans/index.js';
import { createDefaultPipelineRegistry } from '../../dist/pipelines/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const SESSIONS = Number(process.env.QSCOPE_SOAK_SESSIONS ?? 300);
const N = Number(process.env.QSCOPE_SOAK_N ?? 8);
const MiB = 2 ** 20;

const dir = mkdtempSync(join(tmpdir(), 'qscope-bench-soak-'));
const clock = new VirtualClock();
const world = new SimWorld({ seed: 1, clock, scene: { emitters: {} } });
const instruments = { piezo0: { kind: 'piezo', impl: 'sim' }, hbt0: { kind: 'hbt', impl: 'sim', efficiency: 0.05 } };
const drivers = await createDefaultRegistry().build(instruments, { clock, world });
for (const d of drivers.values()) await d.connect();
const store = new SessionStore(dir, { limits: { ...DEFAULT_LIMITS, minFreeBytes: 64 * MiB } });
const engine = new Engine({ clock, drivers, plans: await createDefaultPlanRegistry(), pipelines: await createDefaultPipelineRegistry(), store, config: { rig: { seed: 1, clock: 'virtual' }, instruments } });

const params = { nx: N, ny: N, prescanPixels: 8, calibrationS: 60, maxDwellS: 5 };
const samples = [];
const t0 = performance.now();
for (let i = 0; i < SESSIONS; i++) {
  const id = await engine.start('antibunching-scan', params);
  const st = await engine.whenEnded(id);
  if (st.state !== 'completed') throw new Error(`session ${i}: ${st.state}: ${st.reason}`);
  rmSync(store.pathOf(id), { force: true }); // the disk is not what is measured
  gc();
  const m = process.memoryUsage();
  const s = { session: i + 1, rssMiB: +(m.rss / MiB).toFixed(1), heapUsedMiB: +(m.heapUsed / MiB).toFixed(1), externalMiB: +(m.external / MiB).toFixed(1), arrayBuffersMiB: +(m.arrayBuffers / MiB).toFixed(1) };
  samples.push(s);
  if ((i + 1) % 10 === 0 || i === 0) console.log(JSON.stringify(s));
}

/** Least-squares slope of y over the session index, per session. */
function slope(rows, key) {
  const n = rows.length;
  const mx = rows.reduce((a, r) => a + r.session, 0) / n;
  const my = rows.reduce((a, r) => a + r[key], 0) / n;
  let sxy = 0, sxx = 0;
  for (const r of rows) {
    sxy += (r.session - mx) * (r[key] - my);
    sxx += (r.session - mx) ** 2;
  }
  return sxy / sxx;
}
const after = samples.slice(Math.floor(samples.length / 3)); // warm-up: the first third
console.log(JSON.stringify({
  case: `soak: ${SESSIONS} antibunching-scan sessions ${N}×${N} (virtual clock), after warm-up (sessions ${after[0].session}–${SESSIONS})`,
  rssFirstMiB: samples[0].rssMiB,
  rssAfterWarmupMiB: after[0].rssMiB,
  rssLastMiB: samples[samples.length - 1].rssMiB,
  rssSlopeKiBPerSession: +(slope(after, 'rssMiB') * 1024).toFixed(1),
  heapAfterWarmupMiB: after[0].heapUsedMiB,
  heapLastMiB: samples[samples.length - 1].heapUsedMiB,
  heapSlopeKiBPerSession: +(slope(after, 'heapUsedMiB') * 1024).toFixed(1),
  wallS: +((performance.now() - t0) / 1000).toFixed(0),
  load1: +loadavg()[0].toFixed(1),
}));
await engine.stop();
for (const d of drivers.values()) await d.disconnect();
rmSync(dir, { recursive: true, force: true });
