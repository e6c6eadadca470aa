// `npm run bench -- cosy`: the DLMC paper's Fig. 6 on held-out simulated ODMR maps (seeds never used in
// training), adaptive against uniform sampling, and DLMC timing. Needs `npm run build` and the committed
// DLNet (pipelines/cosy/model/). Prints one JSON object per case, then markdown tables for docs/BENCHMARKS.md.
// Options (env): COSY_BENCH_MAPS (default 4), COSY_BENCH_MASKS (default 5), COSY_MODEL_DIR (default: the committed model).
import { Rng } from '../../dist/drivers/core/rng.js';
import { heldOutOdmrMap } from '../../dist/pipelines/cosy/heldout.js';
import { randomMask } from '../../dist/pipelines/cosy/simdata.js';
import { reconstruct } from '../../dist/pipelines/cosy/methods.js';
import { scoreCosy, cosySnrOfMap } from '../../dist/pipelines/cosy/score.js';
import { InProcessDLNet } from '../../dist/pipelines/cosy/dlnet-runner.js';
import { nextSamples } from '../../dist/native/index.js';

const N = 50, CELLS = N * N, STEP = 18;
const MAPS = Number(process.env.COSY_BENCH_MAPS ?? 4);
const MASKS = Number(process.env.COSY_BENCH_MASKS ?? 5);
const FRACTIONS = [0.1, 0.2, 0.4, 0.8];
const METHODS = ['orig', 'mc', 'softimpute', 'dl', 'dlmc'];
// DLMC's SVT runs from the DLNet output and stops at a residual near the readout noise (decision 0803;
// COSY_DLMC_TOL overrides its tol).
const SETTINGS = { orig: {}, mc: {}, softimpute: {}, dl: {}, dlmc: process.env.COSY_DLMC_TOL ? { tol: Number(process.env.COSY_DLMC_TOL) } : {} };

const dlnet = await InProcessDLNet.load(process.env.COSY_MODEL_DIR);
const maps = Array.from({ length: MAPS }, (_, i) => heldOutOdmrMap(i));
const opts = (m) => ({ step1Us: STEP, step2Us: STEP, peaksKHz: m.linesKHz });
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function run(method, m, mask) {
  const observed = m.noisy.map((v, k) => (mask[k] ? v : Number.NaN));
  const r = await reconstruct(observed, mask, N, N, { method, dlnet, svtSettings: SETTINGS[method] });
  return { map: r.map, score: await scoreCosy(r.map, m.clean, N, N, opts(m)) };
}

// ---- Fig. 6: SNR and RMSE (frequency domain) against sampling ratio ----
const rawSnr = mean(await Promise.all(maps.map((m) => cosySnrOfMap(m.noisy, N, N, opts(m)))));
const fig6 = [];
for (const f of FRACTIONS) {
  for (const method of METHODS) {
    const perMask = { rmse: [], snr: [], ssim: [] };
    for (let k = 0; k < MASKS; k++) {
      const s = [];
      for (const [i, m] of maps.entries()) s.push((await run(method, m, randomMask(CELLS, f, Rng.derive(99, `bench-mask/${f}/${k}/${i}`)))).score);
      perMask.rmse.push(mean(s.map((x) => x.rmseFreq)));
      perMask.snr.push(mean(s.map((x) => x.snrDb)));
      perMask.ssim.push(mean(s.map((x) => x.ssim)));
    }
    const row = { case: 'fig6', fraction: f, method, rmseFreq: mean(perMask.rmse), rmseStd: std(perMask.rmse), snrDb: mean(perMask.snr), snrStd: std(perMask.snr), snrGainDb: mean(perMask.snr) - rawSnr, ssim: mean(perMask.ssim) };
    fig6.push(row);
    console.log(JSON.stringify(row));
  }
}

// ---- adaptive vs uniform: samples needed to reach DLMC's 10 % uniform RMSE ----
const target = fig6.find((r) => r.fraction === 0.1 && r.method === 'dlmc').rmseFreq;
async function samplesToTarget(m, strategy, i) {
  const mask = randomMask(CELLS, 0.04, Rng.derive(7, `adaptive-start/${i}`));
  const batch = 25; // 1 % of the grid
  for (let b = 0; ; b++) {
    const { map, score } = await run('dlmc', m, mask);
    const n = mask.reduce((a, c) => a + c, 0);
    if (score.rmseFreq <= target) return n;
    if (n >= 0.4 * CELLS) return Number.POSITIVE_INFINITY;
    let idx;
    if (strategy === 'uniform') {
      const free = [];
      for (let q = 0; q < CELLS; q++) if (!mask[q]) free.push(q);
      const pick = randomMask(free.length, batch / free.length, Rng.derive(7, `adaptive-uniform/${i}/${b}`));
      idx = free.filter((_, q) => pick[q]);
    } else {
      let lo = Infinity, hi = -Infinity;
      for (const v of map) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      idx = nextSamples(mask, map.map((v) => (v - lo) / (hi - lo || 1)), N, N, batch, { strategy, minDistance: 1.5, seed: 7 + b });
    }
    for (const q of idx) mask[q] = 1;
  }
}
const adaptive = {};
for (const strategy of ['uniform', 'leverage']) {
  const need = [];
  for (const [i, m] of maps.entries()) need.push(await samplesToTarget(m, strategy, i));
  adaptive[strategy] = need;
  console.log(JSON.stringify({ case: 'adaptive', strategy, targetRmseFreq: target, samplesNeeded: need, medianFraction: median(need) / CELLS }));
}

// ---- timing: one reconstruction of a 50×50 map at 10 % ----
const timing = {};
for (const method of ['mc', 'dl', 'dlmc']) {
  const m = maps[0];
  const mask = randomMask(CELLS, 0.1, Rng.derive(3, 'timing'));
  for (let w = 0; w < 3; w++) await run(method, m, mask);
  const ms = [];
  for (let r = 0; r < 11; r++) {
    const t0 = performance.now();
    await reconstruct(m.noisy.map((v, k) => (mask[k] ? v : Number.NaN)), mask, N, N, { method, dlnet, svtSettings: SETTINGS[method] });
    ms.push(performance.now() - t0);
  }
  timing[method] = median(ms);
  console.log(JSON.stringify({ case: 'timing', method, medianMs: timing[method] }));
}

// ---- markdown ----
const fmt = (x, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : '∞');
console.log(`\n${MAPS} held-out maps × ${MASKS} random masks per ratio; FFT of the fully sampled noisy map: SNR ${rawSnr.toFixed(1)} dB\n`);
console.log('| sampled | method | RMSE (freq) mean ± std | SNR dB mean ± std | SNR vs orig at same ratio | SNR vs FFT of full map | SSIM |');
console.log('|---|---|---|---|---|---|---|');
const sign = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
for (const r of fig6) {
  const orig = fig6.find((o) => o.fraction === r.fraction && o.method === 'orig');
  console.log(`| ${r.fraction * 100} % | ${r.method} | ${fmt(r.rmseFreq, 5)} ± ${fmt(r.rmseStd, 5)} | ${r.snrDb.toFixed(1)} ± ${r.snrStd.toFixed(1)} | ${sign(r.snrDb - orig.snrDb)} | ${sign(r.snrGainDb)} | ${r.ssim.toFixed(3)} |`);
}
console.log(`\nTarget RMSE (DLMC, 10 % uniform): ${fmt(target, 5)}. Samples needed per map (start 4 % random, batches of 1 %, DLMC after each):`);
for (const [s, need] of Object.entries(adaptive)) console.log(`- ${s}: ${need.map((n) => (Number.isFinite(n) ? `${n} (${((100 * n) / CELLS).toFixed(1)} %)` : '> 40 %')).join(', ')}; median ${Number.isFinite(median(need)) ? ((100 * median(need)) / CELLS).toFixed(1) + ' %' : '> 40 %'}`);
console.log(`\nOne 50×50 reconstruction at 10 %, median of 11 after 3 warm-ups: ${Object.entries(timing).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ')}`);
