// `npm run bench -- mrfm`: the MRFM multislice experiment (issue 16). Needs `npm run build`.
// Prints one JSON object per case on stdout.
//
// 1. speed at the paper's size (128 × 128 voxels, 50 heights, 46 pulses, 1 nm): PSF generation, ADMM set-up
//    (PSF FFTs + per-frequency Cholesky factors), ms per ADMM iteration, against a NumPy implementation of the
//    same iteration written here (run in the same session when python3 + numpy exist).
// 2. quality on a simulated sample (the paper's sphere; grid MRFM_BENCH_GRID = small (32² × 24 at 2 nm, 12 pulses,
//    default) or paper): RMSE vs iteration for ADMM and Landweber at T_m = 30 s; multislice vs XYZ and cantilever
//    vs membrane at a few T_m (Fig. 3e); RMSE vs sampling ratio p = 1, 1/2, 1/3 at T_m = 60 s per CS variant
//    (Fig. 4g); where the no-truth stopping rules stop against the truth-optimal iteration.
// Options (env): MRFM_BENCH_GRID (small | paper), MRFM_BENCH_PARTS (speed,quality: default both), MRFM_BENCH_SPEED_ITERS (20).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '../../dist/drivers/core/npy.js';
import { mrfmPsfAsync, mrfmReconstruct } from '../../dist/native/index.js';
import { psfJob, pulseCentres, TABLE1_SETUP } from '../../dist/drivers/force/physics.js';
import { simulateDataset } from '../../dist/pipelines/mrfm/simulate.js';
import { DEFAULT_SOLVE, reconstructMrfm, rmse } from '../../dist/pipelines/mrfm/reconstruct.js';

const PARTS = (process.env.MRFM_BENCH_PARTS ?? 'speed,quality').split(',');
const SPEED_ITERS = Number(process.env.MRFM_BENCH_SPEED_ITERS ?? 20);
const emit = (o) => console.log(JSON.stringify(o));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (v, d = 3) => (v === null || v === undefined ? v : Number(v.toPrecision(d + 1)));

const PAPER = { nx: 128, ny: 128, nz: 50, voxelNm: 1, standoffNm: 15 };
const SMALL = { nx: 32, ny: 32, nz: 24, voxelNm: 2, standoffNm: 15 };

// ---------------------------------------------------------------- NumPy ADMM (the same iteration)
const NUMPY_ADMM = String.raw`
import sys, json, time
import numpy as np
psf = np.load(sys.argv[1]).astype(np.float64)
data = np.load(sys.argv[2])
vv, nu1, nu2, gamma, iters = map(float, sys.argv[3:8]); iters = int(iters)
nf, nx, ny, nz = psf.shape; nyh = ny // 2 + 1; F = nx * nyh
t0 = time.perf_counter()
H = np.fft.rfft2(np.fft.ifftshift(psf, axes=(1, 2)), axes=(1, 2)) * vv          # (nf, nx, nyh, nz)
G = np.ascontiguousarray(H.transpose(1, 2, 0, 3).reshape(F, nf, nz))             # (F, nf, nz)
Ihat = np.fft.rfft2(data.transpose(2, 0, 1), axes=(1, 2)).reshape(nf, F)         # (nf, F)
b = np.einsum('fla,lf->fa', G.conj(), Ihat)                                       # (F, nz)
kx = 2 * np.pi * np.arange(nx) / nx; ky = 2 * np.pi * np.arange(nyh) / ny
dd = ((2 - 2 * np.cos(kx))[:, None] + (2 - 2 * np.cos(ky))[None, :]).reshape(F)
T = 2 * np.eye(nz) - np.eye(nz, k=1) - np.eye(nz, k=-1); T[0, 0] = 1; T[-1, -1] = 1
if nz == 1: T[:] = 0
M = np.conj(np.transpose(G, (0, 2, 1))) @ G + (nu1 + nu2 * dd)[:, None, None] * np.eye(nz)[None] + nu2 * T[None]
Minv = np.linalg.inv(M)
setup = time.perf_counter() - t0
def grad(o):
    gx = np.roll(o, -1, axis=1) - o; gy = np.roll(o, -1, axis=2) - o
    gz = np.zeros_like(o); gz[:-1] = o[1:] - o[:-1]
    return gx, gy, gz
def gradT(wx, wy, wz):
    out = (np.roll(wx, 1, axis=1) - wx) + (np.roll(wy, 1, axis=2) - wy)
    out[1:] += wz[:-1]; out[:-1] -= wz[:-1]
    return out
shape = (nz, nx, ny)
o = np.zeros(shape); op = np.zeros(shape); l1 = np.zeros(shape)
t = [np.zeros(shape) for _ in range(3)]; m2 = [np.zeros(shape) for _ in range(3)]
dplanes = data.transpose(2, 0, 1)
times = []
for it in range(iters):
    s = time.perf_counter()
    q = l1 + nu1 * op + gradT(*[m2[c] + nu2 * t[c] for c in range(3)])
    Q = np.fft.rfft2(q, axes=(1, 2)).reshape(nz, F).T + b                       # (F, nz)
    X = np.matmul(Minv, Q[:, :, None])[:, :, 0]
    o = np.fft.irfft2(X.T.reshape(nz, nx, nyh), s=(nx, ny), axes=(1, 2))
    op = np.maximum(0, o - l1 / nu1)
    g = grad(o)
    v = [g[c] - m2[c] / nu2 for c in range(3)]
    n = np.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
    k = np.where(n > gamma / nu2, 1 - gamma / (nu2 * np.maximum(n, 1e-300)), 0.0)
    t = [k * v[c] for c in range(3)]
    l1 += nu1 * (op - o)
    m2 = [m2[c] + nu2 * (t[c] - g[c]) for c in range(3)]
    # the residual of the stopping rule, as the native loop computes it
    Op = np.fft.rfft2(op, axes=(1, 2)).reshape(nz, F).T
    Ao = np.fft.irfft2(np.matmul(G, Op[:, :, None])[:, :, 0].T.reshape(nf, nx, nyh), s=(nx, ny), axes=(1, 2))
    res = float(np.sum((Ao - dplanes) ** 2))
    times.append(time.perf_counter() - s)
print(json.dumps({"setup_s": setup, "iter_ms": sorted(times)[len(times) // 2] * 1000, "final": op.transpose(1, 2, 0).ravel()[:8].tolist()}))
`;

function numpyAdmm(psf, dims, data, vv, r, iters) {
  const dir = mkdtempSync(join(tmpdir(), 'mrfm-bench-'));
  try {
    writeFileSync(join(dir, 'psf.npy'), encodeNpy(psf, [dims.nf, dims.nx, dims.ny, dims.nz]));
    writeFileSync(join(dir, 'data.npy'), encodeNpy(data, [dims.nx, dims.ny, dims.nf]));
    const out = execFileSync('python3', ['-c', NUMPY_ADMM, join(dir, 'psf.npy'), join(dir, 'data.npy'), String(vv), String(r.nu1), String(r.nu2), String(r.gamma), String(iters)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
    return JSON.parse(out);
  } catch (err) {
    return { error: String(err.message ?? err).split('\n')[0] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- 1. speed at the paper's size
if (PARTS.includes('speed')) {
  const f0Hz = pulseCentres(TABLE1_SETUP, 46, [24, 70]);
  emit({ case: 'pulse centres (Appendix E rule)', f0_MHz_first: round(f0Hz[0] / 1e6, 5), f0_MHz_last: round(f0Hz.at(-1) / 1e6, 5), paper_MHz: [146.74, 133.87] });
  const job = psfJob({ setup: TABLE1_SETUP, grid: PAPER, geometry: 'cantilever', f0Hz, fBWHz: 500e3, subSamples: 3 });
  const psfTimes = [];
  let psf;
  for (let k = 0; k < 2; k++) {
    const t = performance.now();
    psf = await mrfmPsfAsync(job);
    psfTimes.push((performance.now() - t) / 1000);
  }
  emit({ case: 'PSF generation 46 × 128 × 128 × 50 voxels, 27 sub-samples each', seconds: psfTimes.map((v) => round(v)), median_s: round(median(psfTimes)) });
  const ds = await simulateDataset({ grid: PAPER, geometry: 'cantilever', protocol: 'multislice', nf: 46, extentNm: [24, 70], fBWHz: 500e3, TmS: 30, sThAnPerRtHz: 10, bandwidthHz: 40, tauMS: 0.02, p: 1, seed: 1, psf });
  const dims = ds.dims;
  const r = await mrfmReconstruct(ds.psf, dims, 1, ds.measurement, { method: 'admm', maxIter: SPEED_ITERS, nu1: DEFAULT_SOLVE.rho1, nu2: DEFAULT_SOLVE.rho2, gamma: DEFAULT_SOLVE.alpha, relative: true, stopAtDiscrepancy: false, truth: ds.truth });
  const per = Array.from(r.seconds, (s, i) => (s - (i ? r.seconds[i - 1] : 0)) * 1000).slice(2);
  const np = numpyAdmm(ds.psf, dims, ds.measurement, 1, r, Math.max(5, Math.min(SPEED_ITERS, 10)));
  emit({
    case: 'ADMM at the paper size (128 × 128 × 50, 46 pulses), same iteration incl. the stopping-rule residual',
    qscope_setup_s: round(r.setupSeconds), qscope_ms_per_iteration: round(median(per)),
    numpy_setup_s: round(np.setup_s ?? null), numpy_ms_per_iteration: round(np.iter_ms ?? null),
    speedup_vs_numpy: np.iter_ms ? round(np.iter_ms / median(per)) : null, numpy_error: np.error,
    goal: '≤ 25 ms per iteration, ≥ 2× NumPy, set-up < 1 s', threads: process.env.QSCOPE_THREADS ?? 'default (≤ 2)',
  });
}

// ---------------------------------------------------------------- 2. quality
if (PARTS.includes('quality')) {
  const paper = process.env.MRFM_BENCH_GRID === 'paper';
  const grid = paper ? PAPER : SMALL;
  const nfMs = paper ? 46 : 12;
  const base = { grid, extentNm: [24, 70], fBWHz: 500e3, sThAnPerRtHz: 10, bandwidthHz: 40, tauMS: 0.02, seed: 7, subSamples: 2 };
  const psfCache = new Map();
  async function sim(protocol, geometry, TmS, p = 1) {
    const key = `${protocol}/${geometry}`;
    const nf = protocol === 'multislice' ? nfMs : grid.nz;
    const ds = await simulateDataset({ ...base, protocol, geometry, nf, TmS, p, ...(psfCache.has(key) ? { psf: psfCache.get(key) } : {}) });
    psfCache.set(key, ds.psf);
    return ds;
  }
  const curve = (xs) => Object.fromEntries([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].filter((k) => k <= xs.length).map((k) => [k, round(xs[k - 1])]));

  // ADMM vs Landweber at T_m = 30 s
  {
    const ds = await sim('multislice', 'membrane', 30);
    const a = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, maxIter: 200, stopAtDiscrepancy: false });
    const l = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, method: 'landweber', maxIter: 1000, stopAtDiscrepancy: false });
    for (const [name, r] of [['admm', a], ['landweber', l]]) {
      const xs = Array.from(r.solver.rmse);
      const best = Math.min(...xs), at = xs.indexOf(best);
      emit({ case: `RMSE vs iteration, ${name}, membrane multislice, T_m 30 s`, grid, rmse_curve: curve(xs), best_rmse: round(best), best_iteration: at + 1, seconds_to_best: round(r.solver.seconds[at]), setup_s: round(r.solver.setupSeconds) });
    }
    // the no-truth stopping rules
    const as = await reconstructMrfm(ds, DEFAULT_SOLVE);
    const ls = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, method: 'landweber', maxIter: 1000 });
    for (const [name, all, stop] of [['admm (converged)', a, as], ['landweber (discrepancy)', l, ls]]) {
      const xs = Array.from(all.solver.rmse);
      const best = Math.min(...xs);
      emit({ case: `stopping rule, ${name}`, stopped_at: stop.solver.iterations, reason: stop.solver.reason, rmse_at_stop: round(rmse(stop.o, ds.truth)), best_iteration: xs.indexOf(best) + 1, best_rmse: round(best), excess_percent: round((100 * (rmse(stop.o, ds.truth) - best)) / best) });
    }
  }

  // Fig. 3e: protocols × resonators over T_m (ADMM, best iterate and the stopped one)
  for (const TmS of [5, 30, 120]) {
    for (const protocol of ['multislice', 'xyz']) {
      for (const geometry of ['cantilever', 'membrane']) {
        const ds = await sim(protocol, geometry, TmS);
        const r = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, maxIter: 150, stopAtDiscrepancy: false });
        const stop = await reconstructMrfm(ds, DEFAULT_SOLVE);
        emit({ case: `Fig. 3e ${protocol} ${geometry} T_m ${TmS} s`, best_rmse: round(Math.min(...r.solver.rmse)), rmse_at_stop: round(rmse(stop.o, ds.truth)), iterations: stop.solver.iterations });
      }
    }
  }

  // Fig. 4g: sampling ratio × CS variant at T_m = 60 s (multislice, membrane)
  for (const p of [1, 1 / 2, 1 / 3]) {
    const ds = await sim('multislice', 'membrane', 60, p);
    for (const transform of ['dct', 'dft3']) {
      for (const mode of ['fill', 'everywhere']) {
        if (p === 1 && mode === 'fill') continue; // nothing to fill
        const r = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, cs: { ...DEFAULT_SOLVE.cs, transform, mode } });
        let e = 0, n = 0;
        for (let i = 0; i < ds.clean.length; i++) {
          e += (r.data[i] - ds.clean[i]) ** 2;
          n++;
        }
        emit({ case: `Fig. 4g p ${round(p, 2)} cs ${transform}/${mode}`, rmse: round(rmse(r.o, ds.truth)), data_rmse_aN2: round(Math.sqrt(e / n)), cs_seconds: round(r.cs?.seconds ?? 0), cs_iterations: r.cs?.iterations });
      }
    }
    if (p === 1) {
      const r = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, cs: { ...DEFAULT_SOLVE.cs, transform: 'none' } });
      emit({ case: 'Fig. 4g p 1 no cs', rmse: round(rmse(r.o, ds.truth)) });
    }
  }
}
