import { describe, expect, it } from 'vitest';
import { Matrix, SVD } from 'ml-matrix';
import { Rng } from '../../drivers/core/rng.js';
import { APG_TOL, nextSamples, svt, SVT_MAX_ITER, SVT_TOL } from '../../native/index.js';
import { lowRank, nvMap, observe, randomMask, relativeError } from './completion-fixtures.mjs';

function toMatrix(a: Float64Array, m: number, n: number): Matrix {
  return new Matrix(Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n))));
}

/** Plain Cai–Candès–Shen SVT (their Sec. 5.1 with the "kicking" start), on ml-matrix's SVD. */
function referenceSvt(mObs: Float64Array, mask: Uint8Array, m: number, n: number, tau: number, delta: number, iterations: number): Float64Array {
  const pm = mObs.map((v, i) => (mask[i] ? v : 0));
  const norm2 = new SVD(toMatrix(pm, m, n), { computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal[0];
  const k0 = Math.ceil(tau / (delta * norm2));
  const y = pm.map((v) => k0 * delta * v);
  let x = new Float64Array(m * n);
  for (let it = 0; it < iterations; it++) {
    const d = new SVD(toMatrix(y, m, n), { autoTranspose: true });
    const u = d.leftSingularVectors;
    const v = d.rightSingularVectors;
    x = new Float64Array(m * n);
    d.diagonal.forEach((s, c) => {
      if (s <= tau) return;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) x[i * n + j] += u.get(i, c) * (s - tau) * v.get(j, c);
    });
    for (let i = 0; i < m * n; i++) if (mask[i]) y[i] += delta * (pm[i] - x[i]);
  }
  return x;
}

describe('svt: the Cai–Candès–Shen iteration', () => {
  const m = 30, n = 24;
  const truth = lowRank(m, n, 2, 1);
  const mask = randomMask(m * n, 0.5, 1);
  const observed = observe(truth, mask);

  it('reproduces a plain reference implementation (explicit τ, δ, fixed iterations)', async () => {
    const tau = 20, delta = 1.5, iterations = 40;
    const reference = referenceSvt(observed, mask, m, n, tau, delta, iterations);
    const r = await svt(observed, mask, m, n, { tau, delta, tol: 0, maxIter: iterations, center: false });
    expect(r.iterations).toBe(iterations);
    expect(r.rank).toBeGreaterThan(0);
    expect(relativeError(r.x, reference)).toBeLessThan(1e-8);
  });

  it('centring runs the same iteration on M − μ and adds μ back', async () => {
    const shifted = observed.map((v) => v + 3);
    const tau = 15, delta = 1.2, iterations = 25;
    let mu = 0, count = 0;
    mask.forEach((s, i) => { if (s) { mu += shifted[i]; count++; } });
    mu /= count;
    const reference = referenceSvt(shifted.map((v) => v - mu), mask, m, n, tau, delta, iterations).map((v) => v + mu);
    const r = await svt(shifted, mask, m, n, { tau, delta, tol: 0, maxIter: iterations });
    expect(relativeError(r.x, reference)).toBeLessThan(1e-8);
  });

  it('defaults are invariant to the scale and offset of the data', async () => {
    const a = await svt(observed, mask, m, n, { tol: 0, maxIter: 60 });
    const scaled = observed.map((v) => 1e-3 * v + 0.5);
    const b = await svt(scaled, mask, m, n, { tol: 0, maxIter: 60 });
    expect(b.tau).toBeCloseTo(1e-3 * a.tau, 12);
    expect(relativeError(b.x, a.x.map((v) => 1e-3 * v + 0.5), false)).toBeLessThan(1e-9);
  });
});

describe('svt: defaults work without tuning', () => {
  const cases: Array<[string, number, number, (seed: number) => Float64Array]> = [
    ['50×50 rank-3 map (0.5 ± 0.1) at 10 %', 50, 0.1, (s) => lowRank(50, 50, 3, s, 0.1, 0.5)],
    ['50×50 rank-3 map (0.5 ± 0.1) at 20 %', 50, 0.2, (s) => lowRank(50, 50, 3, s, 0.1, 0.5)],
    ['64×64 rank-4 map at 10 %', 64, 0.1, (s) => lowRank(64, 64, 4, s)],
    ['64×64 rank-4 map at 40 %', 64, 0.4, (s) => lowRank(64, 64, 4, s)],
  ];
  it.each(cases)('converges: %s', async (_name, size, p, make) => {
    const truth = make(3);
    const mask = randomMask(size * size, p, 3);
    const r = await svt(observe(truth, mask), mask, size, size);
    expect(r.residual).toBeLessThanOrEqual(SVT_TOL);
    expect(r.iterations).toBeLessThan(SVT_MAX_ITER);
  });

  it('converges on a noiseless rank-3 50×50 matrix from 40 % samples and recovers it to relative error ≤ 0.1', async () => {
    const truth = lowRank(50, 50, 3, 5);
    const mask = randomMask(2500, 0.4, 5);
    const r = await svt(observe(truth, mask), mask, 50, 50);
    expect(r.residual).toBeLessThanOrEqual(SVT_TOL);
    expect(relativeError(r.x, truth)).toBeLessThanOrEqual(0.1);
  });

  describe('warm start from an initial matrix (DLMC)', () => {
    const truth = nvMap(50, 50, 1);
    const rng = new Rng(51);
    const init = truth.map((v) => v + 0.01 * rng.normal()); // a CNN estimate: ~30 % error on the oscillation

    it('initMode lowRank (default): fewer iterations from 40 %, and a far better map than cold or init', async () => {
      const mask = randomMask(2500, 0.4, 1);
      const observed = observe(truth, mask);
      const cold = await svt(observed, mask, 50, 50);
      const warm = await svt(observed, mask, 50, 50, { init });
      expect(cold.residual).toBeLessThanOrEqual(SVT_TOL);
      expect(warm.residual).toBeLessThanOrEqual(SVT_TOL);
      expect(warm.iterations).toBeLessThan(cold.iterations);
      expect(relativeError(warm.x, truth, true)).toBeLessThan(relativeError(cold.x, truth, true));
      expect(relativeError(warm.x, truth, true)).toBeLessThan(0.2 * relativeError(init, truth, true));
    });

    it('initMode lowRank from 10 %: the prior carries the completion where a cold start cannot', async () => {
      const mask = randomMask(2500, 0.1, 1);
      const observed = observe(truth, mask);
      const cold = await svt(observed, mask, 50, 50);
      const warm = await svt(observed, mask, 50, 50, { init });
      expect(warm.residual).toBeLessThanOrEqual(SVT_TOL);
      expect(relativeError(cold.x, truth, true)).toBeGreaterThan(0.5);
      expect(relativeError(warm.x, truth, true)).toBeLessThan(0.5 * relativeError(init, truth, true));
    });

    it('initMode exact: the first iterate is init, and it stops in far fewer iterations than a cold start', async () => {
      const mask = randomMask(2500, 0.2, 1);
      const observed = observe(truth, mask);
      const first = await svt(observed, mask, 50, 50, { init, initMode: 'exact', tol: 0, maxIter: 1 });
      expect(relativeError(first.x, init)).toBeLessThan(1e-10);
      const cold = await svt(observed, mask, 50, 50);
      const warm = await svt(observed, mask, 50, 50, { init, initMode: 'exact' });
      expect(warm.residual).toBeLessThanOrEqual(SVT_TOL);
      expect(warm.iterations).toBeLessThan(cold.iterations / 10);
    });
  });

  it('hardImpute with the right rank, started from svt, completes an offset rank-3 map from 40 % exactly', async () => {
    // Centring by the observed mean adds a rank-1 term to a map with an offset: rank 3 + 1.
    const truth = lowRank(50, 50, 3, 8, 0.1, 0.5);
    const mask = randomMask(2500, 0.4, 8);
    const observed = observe(truth, mask);
    // hardImpute is non-convex: start it from the convex svt solution (a cold start can stall).
    const start = await svt(observed, mask, 50, 50);
    const r = await svt(observed, mask, 50, 50, { method: 'hardImpute', rank: 4, tol: 1e-10, init: start.x });
    expect(r.rank).toBe(4);
    expect(relativeError(r.x, truth, true)).toBeLessThan(1e-4);
  });

  it('apg (accelerated proximal gradient with continuation) completes a rank-3 map from 40 % more accurately, in a third of the iterations or fewer, than svt', async () => {
    const truth = lowRank(50, 50, 3, 8, 0.1, 0.5);
    const mask = randomMask(2500, 0.4, 8);
    const observed = observe(truth, mask);
    const plain = await svt(observed, mask, 50, 50);
    const apg = await svt(observed, mask, 50, 50, { method: 'apg' });
    expect(apg.tau).toBeGreaterThan(0);
    expect(apg.iterations).toBeLessThan(plain.iterations / 3);
    expect(relativeError(apg.x, truth, true)).toBeLessThan(relativeError(plain.x, truth, true) / 1.5);
    expect(apg.residual).toBeLessThan(10 * APG_TOL);
  });

  it('apg is the proximal-gradient solution of its objective: a fixed point of X = D_τ(P_Ω(M) + P_Ω⊥(X))', async () => {
    // At the minimiser of ½‖P_Ω(X − M)‖² + τ‖X‖_*, one more soft-impute step changes nothing.
    const truth = lowRank(30, 24, 2, 3, 0.1, 0);
    const mask = randomMask(720, 0.5, 3);
    const observed = observe(truth, mask);
    const tau = 0.05;
    const r = await svt(observed, mask, 30, 24, { method: 'apg', tau, tol: 1e-12, maxIter: 20000, center: false });
    const step = await svt(observed, mask, 30, 24, { method: 'softImpute', tau, tol: 0, maxIter: 1, init: r.x, center: false });
    expect(relativeError(step.x, r.x)).toBeLessThan(1e-6);
  });

  it('softImpute converges and fits the observed entries', async () => {
    const truth = lowRank(50, 50, 3, 9, 0.1, 0.5);
    const mask = randomMask(2500, 0.4, 9);
    const r = await svt(observe(truth, mask), mask, 50, 50, { method: 'softImpute' });
    expect(r.iterations).toBeLessThan(3000);
    expect(relativeError(r.x, truth, true)).toBeLessThan(0.1);
  });
});

describe('svt: cancellation and errors', () => {
  const truth = lowRank(64, 64, 4, 1);
  const mask = randomMask(4096, 0.2, 1);
  const observed = observe(truth, mask);

  it('rejects with signal.reason when aborted while queued or running', async () => {
    const controller = new AbortController();
    const running = svt(observed, mask, 64, 64, { tol: 0, maxIter: 1_000_000, signal: controller.signal });
    controller.abort(new Error('stop now'));
    await expect(running).rejects.toThrow('stop now');
  });

  it('rejects at once when the signal is already aborted', async () => {
    await expect(svt(observed, mask, 64, 64, { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
  });

  it.each([
    [() => svt(observed, mask, 64, 63), /^observed: length/],
    [() => svt(observed, new Uint8Array(4096), 64, 64), /^mask: no entry is sampled/],
    [() => svt(observed.map((v, i) => (i === 3 && mask[3] ? NaN : v)).fill(NaN, 0, 64), mask, 64, 64), /^observed\[\d+\]: sampled entry must be finite/],
    [() => svt(observed, mask, 64, 64, { tau: 0 }), /^options\.tau: must be a finite number > 0/],
    [() => svt(observed, mask, 64, 64, { tau: -1 }), /^options\.tau/],
    [() => svt(observed, mask, 64, 64, { init: new Float64Array(3) }), /^options\.init: length/],
    [() => svt(observed, mask, 64, 64, { method: 'hardImpute' }), /^options\.rank: required/],
    [() => svt(observed, mask, 64, 64, { maxIters: 3 } as never), /^options\.maxIters: unknown option/],
  ])('rejects bad input naming it (%#)', async (call, message) => {
    await expect(call()).rejects.toThrow(message);
  });
});

describe('nextSamples', () => {
  const m = 40, n = 30;
  const mask = randomMask(m * n, 0.2, 11);

  function expectFreshDistinct(picks: Uint32Array, k: number): void {
    expect(picks.length).toBe(k);
    expect(new Set(picks).size).toBe(k);
    for (const p of picks) {
      expect(p).toBeLessThan(m * n);
      expect(mask[p]).toBe(0);
    }
  }

  it('never returns a sampled point, and is reproducible per seed (every strategy)', () => {
    const recon = lowRank(m, n, 3, 2);
    const uncertainty = Float64Array.from({ length: m * n }, (_, i) => (i * 7919) % 13);
    for (const strategy of ['uniform', 'leverage', 'uncertainty'] as const) {
      const a = nextSamples(mask, recon, m, n, 50, { strategy, uncertainty, seed: 5, minDistance: 1.5 });
      const b = nextSamples(mask, recon, m, n, 50, { strategy, uncertainty, seed: 5, minDistance: 1.5 });
      expectFreshDistinct(a, 50);
      expect(b).toEqual(a);
    }
    const u1 = nextSamples(mask, null, m, n, 50, { strategy: 'uniform', seed: 1 });
    const u2 = nextSamples(mask, null, m, n, 50, { strategy: 'uniform', seed: 2 });
    expect(u2).not.toEqual(u1);
  });

  it('leverage sampling prefers the rows and columns of high leverage', () => {
    // Low-rank background plus one component living on row 7 only and one on column 11 only:
    // those two have leverage ≈ 1, every other row/column ≈ rank/size.
    const recon = lowRank(m, n, 2, 3);
    for (let j = 0; j < n; j++) recon[7 * n + j] += 3 * Math.sin(j);
    for (let i = 0; i < m; i++) recon[i * n + 11] += 3 * Math.cos(i);
    const none = new Uint8Array(m * n);
    let row7 = 0, col11 = 0, total = 0;
    for (let seed = 0; seed < 10; seed++) {
      const picks = nextSamples(none, recon, m, n, 60, { strategy: 'leverage', seed });
      for (const p of picks) {
        if (Math.floor(p / n) === 7) row7++;
        if (p % n === 11) col11++;
        total++;
      }
    }
    // Uniform sampling would put total/m in row 7 and total/n in column 11.
    expect(row7).toBeGreaterThan((3 * total) / m);
    expect(col11).toBeGreaterThan((3 * total) / n);
  });

  it('uncertainty sampling takes the most uncertain points, greedily subject to minDistance', () => {
    const rng = new Rng(12);
    const uncertainty = Float64Array.from({ length: m * n }, () => rng.uniform());
    const top = nextSamples(mask, null, m, n, 25, { strategy: 'uncertainty', uncertainty });
    const ranked = Array.from(uncertainty.keys()).filter((i) => !mask[i]).sort((a, b) => uncertainty[b] - uncertainty[a]);
    expect(Array.from(top)).toEqual(ranked.slice(0, 25));

    const d = 4;
    const spread = nextSamples(mask, null, m, n, 25, { strategy: 'uncertainty', uncertainty, minDistance: d });
    expectFreshDistinct(spread, 25);
    expect(spread[0]).toBe(ranked[0]);
    const dist = (a: number, b: number) => Math.hypot(Math.floor(a / n) - Math.floor(b / n), (a % n) - (b % n));
    spread.forEach((c, t) => {
      for (let s = 0; s < t; s++) expect(dist(c, spread[s])).toBeGreaterThanOrEqual(d);
      // Any unsampled point more uncertain than the t-th pick was blocked by an earlier pick.
      for (const q of ranked) {
        if (uncertainty[q] <= uncertainty[c]) break;
        if (Array.prototype.includes.call(spread, q)) continue;
        expect(Array.from(spread.subarray(0, t)).some((s) => dist(q, s) < d)).toBe(true);
      }
    });
  });

  it('throws clear errors', () => {
    const full = new Uint8Array(m * n).fill(1);
    expect(() => nextSamples(full, null, m, n, 1, { strategy: 'uniform' })).toThrow(/^k: 1 requested but only 0/);
    expect(() => nextSamples(mask, null, m, n, 5, { strategy: 'leverage' })).toThrow(/^recon: required/);
    expect(() => nextSamples(mask, null, m, n, 5, { strategy: 'uncertainty' })).toThrow(/^options\.uncertainty: required/);
    expect(() => nextSamples(mask, null, m, n, 5, { strategy: 'best' as never })).toThrow(/^options\.strategy/);
    expect(() => nextSamples(mask, null, m, n, 200, { strategy: 'uniform', minDistance: 10 })).toThrow(/^minDistance: only \d+ of the 200/);
    expect(() => nextSamples(mask, null, m, n, 0, { strategy: 'uniform' })).toThrow(/^k: must be an integer/);
  });
});
