import { describe, expect, it } from 'vitest';
import { mrfmBpdn, randomMask } from '../../../native/index.js';
import { simulateDataset, type SimulationSpec } from '../../../pipelines/mrfm/simulate.js';
import { DEFAULT_SOLVE, reconstructMrfm, rmse } from '../../../pipelines/mrfm/reconstruct.js';

const GRID = { nx: 16, ny: 16, nz: 10, voxelNm: 4, standoffNm: 15 };
const BASE: SimulationSpec = {
  grid: GRID, geometry: 'cantilever', protocol: 'multislice', nf: 10, extentNm: [24, 70], fBWHz: 500e3,
  TmS: 30, sThAnPerRtHz: 10, bandwidthHz: 40, tauMS: 0.02, p: 1, seed: 3, subSamples: 2,
};
const UNIFORM = { diameterNm: 40, meanDensity: 60, sdDensity: 0, correlationNm: 5 };

describe('mrfm reconstruction', () => {
  it('ADMM recovers a noiseless volume to a small error, and its RMSE falls faster than Landweber’s early on', async () => {
    const ds = await simulateDataset({ ...BASE, noise: false, sample: UNIFORM });
    const scale = rmse(new Float64Array(ds.truth.length), ds.truth);
    const admm = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, rho1: 1e-4, rho2: 1e-4, alpha: 1e-5, maxIter: 200, stopAtDiscrepancy: false });
    const lw = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, method: 'landweber', maxIter: 20, stopAtDiscrepancy: false });
    const a = Array.from(admm.solver.rmse, (v) => v / scale);
    const l = Array.from(lw.solver.rmse, (v) => v / scale);
    expect(a.at(-1)!).toBeLessThan(0.08); // relative RMSE after 200 iterations (measured 0.042)
    for (const k of [1, 2, 5, 10, 20]) expect(a[k - 1]!).toBeLessThan(0.6 * l[k - 1]!);
    expect(rmse(admm.o, ds.truth) / scale).toBeCloseTo(a.at(-1)!, 10);
    for (const v of admm.o) expect(v).toBeGreaterThanOrEqual(0);
  });

  it('BPDN recovers an exactly sparse signal from half its samples (DCT along the pulse axis)', async () => {
    const d = { nx: 16, ny: 16, nz: 1, nf: 8 };
    const N = d.nx * d.ny * d.nf;
    const x = new Float64Array(N);
    for (let i = 0; i < d.nx; i++)
      for (let j = 0; j < d.ny; j++)
        for (let l = 0; l < d.nf; l++)
          x[(i * d.ny + j) * d.nf + l] = 3 * Math.cos((2 * Math.PI * 2 * i) / d.nx) + 2 * Math.cos(2 * Math.PI * ((3 * j) / d.ny + i / d.nx)) * Math.cos((Math.PI * (l + 0.5) * 2) / d.nf) + 1;
    const mask = randomMask([d.nx, d.ny, d.nf], 0.5, 11);
    const m = Float64Array.from(x, (v, i) => (mask[i] ? v : NaN));
    const r = await mrfmBpdn(m, d, { transform: 'dct', zeta: 1e-8, threshold: 1, maxIter: 1000, tol: 1e-7 });
    let e = 0, n = 0;
    for (let i = 0; i < N; i++) {
      e += (r.x[i]! - x[i]!) ** 2;
      n += x[i]! ** 2;
    }
    expect(Math.sqrt(e / n)).toBeLessThan(1e-4);
    expect(r.constraint).toBeLessThanOrEqual(1e-8 * 1.01);
    expect(() => mrfmBpdn(new Float64Array(N).fill(NaN), d, { transform: 'dct', zeta: 0, threshold: 1 })).toThrow(/all NaN/);
  });

  it('without ground truth, the stopping rules stop near the truth-optimal iteration', async () => {
    const ds = await simulateDataset({ ...BASE, seed: 5 });
    // Landweber: discrepancy principle (semi-convergent); stated: RMSE within 15 % of the best one
    const lwAll = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, method: 'landweber', maxIter: 150, stopAtDiscrepancy: false });
    const lwStop = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, method: 'landweber', maxIter: 150 });
    const best = Math.min(...lwAll.solver.rmse);
    expect(lwStop.solver.reason).toBe('discrepancy');
    expect(lwStop.solver.iterations).toBe(lwAll.solver.discrepancyIteration);
    expect(rmse(lwStop.o, ds.truth)).toBeLessThan(1.15 * best);
    // ADMM: stops when converged (relative change ≤ 1e-3); stated: RMSE within 10 % of its best iteration
    const adAll = await reconstructMrfm(ds, { ...DEFAULT_SOLVE, maxIter: 150, stopAtDiscrepancy: false });
    const adStop = await reconstructMrfm(ds, DEFAULT_SOLVE);
    expect(adStop.solver.reason).toBe('converged');
    expect(rmse(adStop.o, ds.truth)).toBeLessThan(1.1 * Math.min(...adAll.solver.rmse));
    // and the regularised ADMM estimate beats the best Landweber iterate
    expect(rmse(adStop.o, ds.truth)).toBeLessThan(best);
  });
});
