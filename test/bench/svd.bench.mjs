// `npm run bench -- svd [svd|svt|sampling]` (after `npm run build`): qscope's native SVD and SVT
// against ml-matrix (pure JS, the most used JS SVD) in the same process, the
// single-thread LAPACK reference (NumPy, OPENBLAS_NUM_THREADS=1) in a child
// process of the same run when python3 + numpy exist, and the adaptive
// sampling strategies compared by the samples each needs to reach a target
// completion error. One JSON object per case on stdout. Times are medians of
// repeated samples after one warm-up call; CPU-bound, so they move with the
// load of the shared machine (the LAPACK row is measured in the same run for
// that reason).
//
// Cases (issue 4):
//  * full thin SVD (U, s, Vt) of random n×n, n = 64, 256, 500;
//  * SVT completion of a rank-4 64×64 matrix from 20 % and 40 % samples with
//    qscope's defaults (time, iterations, error against the full matrix), and
//    the same CCS iteration written with ml-matrix's SVD, for the per-iteration
//    cost ratio (fixed 30 iterations: the full ml-matrix run takes minutes);
//  * warm start: 50×50 cosy-like maps, cold vs the two init modes;
//  * sampling: 50×50 offset rank-3 maps, start from 15 % uniform samples,
//    add batches of 5 % chosen by each strategy, complete with svt (warm
//    started from the previous reconstruction), count the samples needed
//    until the error against the full map is ≤ 0.05; mean over 10 seeds.
import { execFileSync } from 'node:child_process';
import { Matrix, SVD } from 'ml-matrix';
import * as q from '../../dist/native/index.js';
import { Rng } from '../../dist/drivers/core/rng.js';
import { lowRank, nvMap, observe, randomMask, relativeError } from '../native/completion-fixtures.mjs';

const relErr = (x, truth) => relativeError(x, truth, true);

const emit = (row) => console.log(JSON.stringify(row));
// Optional section filter: `npm run bench -- svd [svd|svt|sampling|large]` (large only on request).
const only = process.argv[3];
const run = (section) => only === undefined || only === section;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function timeMs(fn, samples) {
  await fn();
  const t = [];
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}

const round = (x, d = 3) => Number(x.toPrecision(d));

// ---------------------------------------------------------------- SVD
function lapackMs(sizes) {
  const script = `
import os, sys, time, json
import numpy as np
out = {}
for n in ${JSON.stringify(sizes)}:
    a = np.random.default_rng(1).random((n, n)) - 0.5
    np.linalg.svd(a, full_matrices=False)
    ts = []
    for _ in range(9 if n < 300 else 5):
        t = time.perf_counter(); np.linalg.svd(a, full_matrices=False); ts.append(time.perf_counter() - t)
    out[n] = sorted(ts)[len(ts) // 2] * 1e3
print(json.dumps(out))`;
  try {
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    return JSON.parse(execFileSync('python3', ['-c', script], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return null; // no python3/numpy: the LAPACK column is left empty
  }
}

const SVD_SIZES = run('svd') ? [64, 256, 500] : [];
const lapack = SVD_SIZES.length ? lapackMs(SVD_SIZES) : null;
for (const n of SVD_SIZES) {
  const a = Float64Array.from(lowRank(n, n, n, n)); // full rank, Gaussian
  const samples = n <= 64 ? 21 : n <= 256 ? 7 : 5;
  const qs = await timeMs(() => q.svd(a, n, n), samples);
  const qsValues = await timeMs(() => q.svd(a, n, n, { computeUV: false }), samples);
  const qsAsync = await timeMs(() => q.svdAsync(a, n, n), samples);
  const mat = new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n))));
  const ml = await timeMs(() => new SVD(mat, { autoTranspose: true }), n <= 64 ? 11 : 3);
  const lp = lapack?.[n] ?? null;
  emit({
    case: `svd ${n}x${n} (U, s, Vt)`,
    qscope_ms: round(qs), qscope_async_ms: round(qsAsync), qscope_values_only_ms: round(qsValues),
    ml_matrix_ms: round(ml), speedup_vs_ml_matrix: round(ml / qs),
    lapack_1thread_ms: lp === null ? null : round(lp), ratio_to_lapack: lp === null ? null : round(qs / lp),
  });
}

// ---------------------------------------------------------------- SVT
/** The CCS iteration on ml-matrix's SVD (same centring, τ, δ, kicking start as qscope). */
function mlMatrixSvt(observed, mask, m, n, tau, delta, iterations) {
  let mean = 0, count = 0;
  for (let i = 0; i < m * n; i++) if (mask[i]) { mean += observed[i]; count++; }
  mean /= count;
  const pm = observed.map((v, i) => (mask[i] ? v - mean : 0));
  const toM = (a) => new Matrix(Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n))));
  const k0 = Math.ceil(tau / (delta * new SVD(toM(pm)).diagonal[0]));
  const y = pm.map((v) => k0 * delta * v);
  let x = new Float64Array(m * n);
  for (let it = 0; it < iterations; it++) {
    const d = new SVD(toM(y), { autoTranspose: true });
    const U = d.leftSingularVectors, V = d.rightSingularVectors;
    x = new Float64Array(m * n);
    d.diagonal.forEach((s, c) => {
      if (s <= tau) return;
      for (let i = 0; i < m; i++) {
        const w = U.get(i, c) * (s - tau);
        for (let j = 0; j < n; j++) x[i * n + j] += w * V.get(j, c);
      }
    });
    for (let i = 0; i < m * n; i++) if (mask[i]) y[i] += delta * (pm[i] - x[i]);
  }
  return x;
}

for (const p of run('svt') ? [0.2, 0.4] : []) {
  const m = 64, n = 64;
  const truth = lowRank(m, n, 4, 42);
  const mask = randomMask(m * n, p, 42);
  const observed = observe(truth, mask);
  let result;
  const ms = await timeMs(async () => { result = await q.svt(observed, mask, m, n); }, 3);
  const fixed = 30;
  const qFixed = await timeMs(() => q.svt(observed, mask, m, n, { tol: 0, maxIter: fixed }), 3);
  const mlFixed = await timeMs(() => mlMatrixSvt(observed, mask, m, n, result.tau, result.delta, fixed), 1);
  emit({
    case: `svt 64x64 rank-4, ${p * 100} % samples (defaults)`,
    qscope_ms: round(ms), iterations: result.iterations, residual: round(result.residual, 2),
    rank: result.rank, rel_error_vs_full: round(relErr(result.x, truth)),
    per_iteration_qscope_ms: round(qFixed / fixed), per_iteration_ml_matrix_ms: round(mlFixed / fixed),
    speedup_vs_ml_matrix: round(mlFixed / qFixed),
  });
}

// SVT iterations against NumPy's full-SVD loop (the same CCS iteration, τ, δ,
// centring and kicking start; OPENBLAS one thread), 100 iterations on 50×50,
// and the accelerated method 'apg' against plain svt to convergence (issue 18).
function numpySvtMs(observed, mask, m, n, tau, delta, iterations) {
  const script = `
import sys, json, time
import numpy as np
d = json.load(sys.stdin)
m, n, tau, delta, its = d['m'], d['n'], d['tau'], d['delta'], d['its']
obs = np.array(d['obs']).reshape(m, n); mask = np.array(d['mask'], dtype=bool).reshape(m, n)
mu = obs[mask].mean(); pm = np.where(mask, obs - mu, 0.0)
def run():
    k0 = np.ceil(tau / (delta * np.linalg.norm(pm, 2))); y = k0 * delta * pm
    for _ in range(its):
        u, s, vt = np.linalg.svd(y, full_matrices=False)
        r = int((s > tau).sum()); x = (u[:, :r] * (s[:r] - tau)) @ vt[:r]
        y = y + delta * np.where(mask, pm - x, 0.0)
run(); ts = []
for _ in range(5):
    t = time.perf_counter(); run(); ts.append(time.perf_counter() - t)
print(json.dumps(sorted(ts)[2] * 1e3))`;
  try {
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const input = JSON.stringify({ m, n, tau, delta, its: iterations, obs: Array.from(observed, (v) => (Number.isFinite(v) ? v : 0)), mask: Array.from(mask) });
    return JSON.parse(execFileSync('python3', ['-c', script], { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] }));
  } catch {
    return null;
  }
}

function cosyLike(n) {
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const t1 = i / n, t2 = j / n;
      x[i * n + j] = 0.5 + 0.08 * Math.cos(2 * Math.PI * 7.3 * t1) * Math.cos(2 * Math.PI * 5.1 * t2) * Math.exp(-2 * t1 - 1.5 * t2)
        + 0.05 * Math.cos(2 * Math.PI * 11.2 * t1 + 0.4) * Math.cos(2 * Math.PI * 3.3 * t2) * Math.exp(-t1 - 3 * t2);
    }
  return x;
}

for (const [name, n, make] of run('svt') ? [['rank-3 (0.5 ± 0.1)', 50, () => lowRank(50, 50, 3, 7)], ['cosy-like', 50, () => cosyLike(50)]] : []) {
  const truth = make();
  const mask = randomMask(n * n, 0.3, 7);
  const observed = observe(truth, mask);
  const ref = await q.svt(observed, mask, n, n, { tol: 0, maxIter: 1 });
  const qs = await timeMs(() => q.svt(observed, mask, n, n, { tol: 0, maxIter: 100 }), 5);
  const np = numpySvtMs(observed, mask, n, n, ref.tau, ref.delta, 100);
  emit({ case: `svt 100 iterations, 50x50 ${name}, 30 % samples`, qscope_ms: round(qs), numpy_full_svd_loop_ms: np === null ? null : round(np), speedup_vs_numpy: np === null ? null : round(np / qs) });
}

for (const [name, n, make, ps] of run('svt') ? [['64x64 rank-4', 64, () => lowRank(64, 64, 4, 42), [0.2, 0.4]], ['50x50 cosy-like', 50, () => cosyLike(50), [0.2, 0.4]]] : []) {
  for (const p of ps) {
    const truth = make();
    const mask = randomMask(n * n, p, 42);
    const observed = observe(truth, mask);
    let plain, apg;
    const plainMs = await timeMs(async () => { plain = await q.svt(observed, mask, n, n); }, 3);
    const apgMs = await timeMs(async () => { apg = await q.svt(observed, mask, n, n, { method: 'apg' }); }, 3);
    emit({
      case: `completion ${name}, ${p * 100} %: apg vs svt (defaults)`,
      svt_ms: round(plainMs), svt_iterations: plain.iterations, svt_rel_error: round(relErr(plain.x, truth)),
      apg_ms: round(apgMs), apg_iterations: apg.iterations, apg_rel_error: round(relErr(apg.x, truth)), apg_rank: apg.rank,
      speedup: round(plainMs / apgMs),
    });
  }
}

// Other methods on the same maps (qscope only), for the record.
for (const p of run('svt') ? [0.2, 0.4] : []) {
  const truth = lowRank(64, 64, 4, 42);
  const mask = randomMask(64 * 64, p, 42);
  const observed = observe(truth, mask);
  const base = await q.svt(observed, mask, 64, 64);
  const t0 = process.hrtime.bigint();
  const soft = await q.svt(observed, mask, 64, 64, { method: 'softImpute' });
  const t1 = process.hrtime.bigint();
  const hard = await q.svt(observed, mask, 64, 64, { method: 'hardImpute', rank: 5, init: base.x, tol: 1e-9 });
  const t2 = process.hrtime.bigint();
  emit({
    case: `64x64 rank-4, ${p * 100} %: other methods`,
    svt_rel_error: round(relErr(base.x, truth)),
    softImpute_rel_error: round(relErr(soft.x, truth)), softImpute_iterations: soft.iterations, softImpute_ms: round(Number(t1 - t0) / 1e6),
    svt_then_hardImpute_rank5_rel_error: round(relErr(hard.x, truth)), hardImpute_iterations: hard.iterations, hardImpute_ms: round(Number(t2 - t1) / 1e6),
  });
}

// Warm start (DLMC): cosy-like 50×50 maps (0.5 + two damped 2D oscillations),
// init = truth + N(0, 0.01²) per entry, i.e. a CNN estimate with ~30 % error
// on the oscillation; cold start vs initMode 'lowRank' (default) vs 'exact'.
for (const p of run('svt') ? [0.1, 0.2, 0.4] : []) {
  const rows = [];
  for (let seed = 1; seed <= 3; seed++) {
    const truth = nvMap(50, 50, seed);
    const mask = randomMask(2500, p, seed);
    const observed = observe(truth, mask);
    const rng = new Rng(seed + 100);
    const init = truth.map((v) => v + 0.01 * rng.normal());
    const cold = await q.svt(observed, mask, 50, 50);
    const low = await q.svt(observed, mask, 50, 50, { init });
    const exact = await q.svt(observed, mask, 50, 50, { init, initMode: 'exact' });
    rows.push([relErr(init, truth), cold.iterations, relErr(cold.x, truth), low.iterations, relErr(low.x, truth), exact.iterations, relErr(exact.x, truth)]);
  }
  const mean = (k) => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  emit({
    case: `svt 50x50 cosy-like map, ${p * 100} %: cold vs warm start (mean of 3)`,
    init_rel_error: round(mean(0)),
    cold_iterations: Math.round(mean(1)), cold_rel_error: round(mean(2)),
    lowRank_iterations: Math.round(mean(3)), lowRank_rel_error: round(mean(4)),
    exact_iterations: Math.round(mean(5)), exact_rel_error: round(mean(6)),
  });
}

// Large completion (only with `npm run bench -- svd large`: minutes): 500×500
// rank-5 from 20 %, defaults, i.e. the warm-started randomized partial SVD.
if (only === 'large') {
  const truth = lowRank(500, 500, 5, 7);
  const mask = randomMask(500 * 500, 0.2, 7);
  const t0 = process.hrtime.bigint();
  const r = await q.svt(observe(truth, mask), mask, 500, 500);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  emit({
    case: 'svt 500x500 rank-5, 20 % samples (defaults, partial SVDs)',
    qscope_ms: round(ms), iterations: r.iterations, residual: round(r.residual, 2), rank: r.rank,
    ms_per_iteration: round(ms / r.iterations), rel_error_vs_full: round(relErr(r.x, truth)),
  });
}

// ---------------------------------------------------------------- sampling
/**
 * Uncertainty proxy for matrix completion without a model of the noise: an
 * entry is as uncertain as its row and column are under-sampled (each row and
 * column needs at least rank samples to be determined).
 */
function sampleDeficit(mask, m, n) {
  const rows = new Float64Array(m), cols = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) if (mask[i * n + j]) { rows[i]++; cols[j]++; }
  const u = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) u[i * n + j] = 1 / (1 + rows[i]) + 1 / (1 + cols[j]);
  return u;
}

/** A coherent rank-3 map: five rows and five columns carry 8× larger factors. */
function coherent(m, n, seed) {
  const base = lowRank(m, n, 3, seed);
  const rng = new Rng(seed + 7);
  const rows = Array.from({ length: 5 }, () => rng.int(m));
  const cols = Array.from({ length: 5 }, () => rng.int(n));
  const out = base.slice();
  for (const i of rows) for (let j = 0; j < n; j++) out[i * n + j] *= 8;
  for (const j of cols) for (let i = 0; i < m; i++) out[i * n + j] *= 8;
  // Still rank 3: row and column scalings of a rank-3 matrix (D_r L)(D_c R)^T.
  return out.map((v) => 0.5 + 0.02 * v);
}

const TARGET = 0.05, SEEDS = 10, M = 50, N = 50, START = 0.15, BATCH = Math.round(0.05 * M * N);
const MAPS = {
  'rank-3 (0.5 ± 0.1)': (seed) => lowRank(M, N, 3, 1000 + seed, 0.1, 0.5),
  'cosy-like': (seed) => nvMap(M, N, 1000 + seed),
  'coherent rank-3': (seed) => coherent(M, N, 1000 + seed),
};
const mapFilter = process.argv[4]; // optional: one key of MAPS
for (const [mapName, makeMap] of run('sampling') ? Object.entries(MAPS) : []) {
  if (mapFilter !== undefined && mapFilter !== mapName) continue;
  const needed = { uniform: [], leverage: [], uncertainty: [] };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const truth = makeMap(seed);
    for (const strategy of Object.keys(needed)) {
      const mask = randomMask(M * N, START, 1000 + seed);
      let recon = null;
      let count = mask.reduce((s, v) => s + v, 0);
      for (let step = 0; ; step++) {
        const r = await q.svt(observe(truth, mask), mask, M, N, recon ? { init: recon } : undefined);
        recon = r.x;
        if (relErr(recon, truth) <= TARGET || count >= 0.8 * M * N) break;
        const picks = q.nextSamples(mask, recon, M, N, BATCH, {
          strategy, seed: seed * 100 + step, minDistance: strategy === 'uncertainty' ? 2 : 0,
          ...(strategy === 'uncertainty' ? { uncertainty: sampleDeficit(mask, M, N) } : {}),
        });
        for (const p of picks) mask[p] = 1;
        count += picks.length;
      }
      needed[strategy].push(count / (M * N));
    }
  }
  for (const [strategy, xs] of Object.entries(needed)) {
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (xs.length - 1));
    emit({
      case: `sampling 50x50 ${mapName}: fraction sampled to reach rel. error ≤ ${TARGET} (15 % uniform start, +5 % batches, svt warm-started)`,
      strategy, mean_fraction: round(mean), sd: round(sd, 2), seeds: xs.length, capped_at_80_percent: xs.filter((x) => x >= 0.8).length,
    });
  }
}
