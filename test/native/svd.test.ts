import { describe, expect, it } from 'vitest';
import { Matrix, SVD } from 'ml-matrix';
import { svd, svdAsync, type SvdResult } from '../../native/index.js';
import { randomMatrix } from './completion-fixtures.mjs';

/** m×k matrix with orthonormal columns (modified Gram-Schmidt, twice). */
function orthonormalColumns(m: number, k: number, seed: number): Float64Array {
  const q = randomMatrix(m, k, seed);
  for (let c = 0; c < k; c++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        let d = 0;
        for (let i = 0; i < m; i++) d += q[i * k + c] * q[i * k + p];
        for (let i = 0; i < m; i++) q[i * k + c] -= d * q[i * k + p];
      }
    }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += q[i * k + c] ** 2;
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < m; i++) q[i * k + c] /= nrm;
  }
  return q;
}

/** U diag(sigma) V^T with random orthonormal U (m×k), V (n×k). */
function withSpectrum(m: number, n: number, sigma: number[], seed: number): Float64Array {
  const k = sigma.length;
  const u = orthonormalColumns(m, k, seed);
  const v = orthonormalColumns(n, k, seed + 1);
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += u[i * k + c] * sigma[c] * v[j * k + c];
      a[i * n + j] = s;
    }
  return a;
}

function frob(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] ** 2;
  return Math.sqrt(s);
}

function reconstructionError(a: Float64Array, m: number, n: number, r: SvdResult): number {
  const k = r.s.length;
  const diff = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += r.u[i * k + c] * r.s[c] * r.vt[c * n + j];
      diff[i * n + j] = s - a[i * n + j];
    }
  return frob(diff) / (frob(a) || 1);
}

/** max |Q^T Q - I| for the columns of the rows×cols matrix q (byRows: rows are the vectors). */
function orthogonalityError(q: Float64Array, rows: number, cols: number, byRows: boolean): number {
  const k = byRows ? rows : cols;
  const len = byRows ? cols : rows;
  const at = (vec: number, i: number) => (byRows ? q[vec * cols + i] : q[i * cols + vec]);
  let worst = 0;
  for (let p = 0; p < k; p++)
    for (let r = p; r < k; r++) {
      let d = 0;
      for (let i = 0; i < len; i++) d += at(p, i) * at(r, i);
      worst = Math.max(worst, Math.abs(d - (p === r ? 1 : 0)));
    }
  return worst;
}

function expectValidSvd(a: Float64Array, m: number, n: number, r: SvdResult, tolerance: number): void {
  const k = Math.min(m, n);
  expect(r.s.length).toBe(k);
  expect(r.u.length).toBe(m * k);
  expect(r.vt.length).toBe(k * n);
  expect(reconstructionError(a, m, n, r)).toBeLessThan(tolerance);
  expect(orthogonalityError(r.u, m, k, false)).toBeLessThan(1e-12);
  expect(orthogonalityError(r.vt, k, n, true)).toBeLessThan(1e-12);
  for (let i = 0; i < k; i++) {
    expect(r.s[i]).toBeGreaterThanOrEqual(0);
    if (i > 0) expect(r.s[i]).toBeLessThanOrEqual(r.s[i - 1]);
  }
}

describe('svd: thin SVD', () => {
  const shapes: Array<[number, number]> = [
    [1, 1], [2, 2], [3, 2], [2, 3], [1, 6], [6, 1], [5, 5], [64, 64], [120, 40], [40, 120], [150, 149],
  ];
  it.each(shapes)('reconstructs a random %i×%i matrix with orthonormal factors', (m, n) => {
    const a = randomMatrix(m, n, m * 1000 + n);
    expectValidSvd(a, m, n, svd(a, m, n), 1e-12);
  });

  it('handles a rank-deficient matrix: trailing singular values vanish', () => {
    const m = 80, n = 60, rank = 5;
    const a = withSpectrum(m, n, [5, 4, 3, 2, 1], 7);
    const r = svd(a, m, n);
    expectValidSvd(a, m, n, r, 1e-12);
    for (let i = rank; i < n; i++) expect(r.s[i]).toBeLessThan(1e-13 * r.s[0]);
    expect(r.s[4]).toBeCloseTo(1, 12);
  });

  it('handles the zero matrix and a matrix with exactly repeated rows', () => {
    const zero = new Float64Array(12);
    const rz = svd(zero, 3, 4);
    expect(Array.from(rz.s)).toEqual([0, 0, 0]);
    expect(orthogonalityError(rz.u, 3, 3, false)).toBeLessThan(1e-15);
    const row = randomMatrix(1, 9, 3);
    const rep = new Float64Array(7 * 9);
    for (let i = 0; i < 7; i++) rep.set(row, i * 9);
    const rr = svd(rep, 7, 9);
    expectValidSvd(rep, 7, 9, rr, 1e-13);
    expect(rr.s[1]).toBeLessThan(1e-14 * rr.s[0]);
  });

  it('is accurate to working precision at condition number 1e10', () => {
    const n = 50;
    const sigma = Array.from({ length: n }, (_, i) => 10 ** (-10 * i / (n - 1)));
    const a = withSpectrum(70, n, sigma, 11);
    const r = svd(a, 70, n);
    expectValidSvd(a, 70, n, r, 1e-10);
    for (let i = 0; i < n; i++) expect(Math.abs(r.s[i] - sigma[i])).toBeLessThan(1e-13);
  });

  it('singular values only: same values as the full SVD and as ml-matrix', () => {
    const m = 45, n = 30;
    const a = randomMatrix(m, n, 5);
    const values = svd(a, m, n, { computeUV: false });
    expect('u' in values).toBe(false);
    const full = svd(a, m, n);
    const reference = new SVD(new Matrix(Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)))));
    for (let i = 0; i < n; i++) {
      expect(values.s[i]).toBeCloseTo(full.s[i], 12);
      expect(values.s[i]).toBeCloseTo(reference.diagonal[i], 11);
    }
  });

  it('svdAsync gives the same result as svd', async () => {
    const a = randomMatrix(130, 110, 9);
    const sync = svd(a, 130, 110);
    const async = await svdAsync(a, 130, 110);
    expect(async.s).toEqual(sync.s);
    expect(async.u).toEqual(sync.u);
    expect(async.vt).toEqual(sync.vt);
  });
});

describe('svd: truncated (randomized range finder)', () => {
  const m = 300, n = 200, k = 10;
  const sigma = Array.from({ length: n }, (_, i) => 0.6 ** i);
  const a = withSpectrum(m, n, sigma, 21);

  it('matches the leading part of the full SVD', () => {
    const full = svd(a, m, n);
    const t = svd(a, m, n, { k });
    expect(t.s.length).toBe(k);
    expect(t.u.length).toBe(m * k);
    expect(t.vt.length).toBe(k * n);
    expect(orthogonalityError(t.u, m, k, false)).toBeLessThan(1e-12);
    expect(orthogonalityError(t.vt, k, n, true)).toBeLessThan(1e-12);
    for (let c = 0; c < k; c++) {
      expect(Math.abs(t.s[c] - full.s[c]) / full.s[c]).toBeLessThan(1e-10);
      // Singular vectors agree up to sign.
      let du = 0;
      for (let i = 0; i < m; i++) du += t.u[i * k + c] * full.u[i * n + c];
      let dv = 0;
      for (let j = 0; j < n; j++) dv += t.vt[c * n + j] * full.vt[c * n + j];
      expect(Math.abs(du)).toBeCloseTo(1, 8);
      expect(Math.abs(dv)).toBeCloseTo(1, 8);
    }
  });

  it('is deterministic for a seed and values-only works', () => {
    const t1 = svd(a, m, n, { k: 4, seed: 3 });
    const t2 = svd(a, m, n, { k: 4, seed: 3 });
    expect(t1.u).toEqual(t2.u);
    const v = svd(a, m, n, { k: 4, computeUV: false });
    expect(v.s.length).toBe(4);
    expect(Math.abs(v.s[0] - 1)).toBeLessThan(1e-10);
  });
});

describe('svd: argument errors name the argument', () => {
  const a = new Float64Array(6);
  it.each([
    [() => svd(new Float64Array(5), 2, 3), /^a: length 5/],
    [() => svd([1, 2] as unknown as Float64Array, 1, 2), /^a: must be a Float64Array/],
    [() => svd(Float64Array.of(1, NaN), 1, 2), /^a\[1\]: must be finite/],
    [() => svd(a, 0, 6), /\[m, n\]\[0\]/],
    [() => svd(a, 2, 3, { k: 3 }), /^options\.k/],
    [() => svd(a, 2, 3, { computeUv: false } as never), /^options\.computeUv: unknown option/],
  ])('%#', (call, message) => {
    expect(call).toThrow(message);
  });
  it('svdAsync rejects instead of throwing', async () => {
    await expect(svdAsync(new Float64Array(5), 2, 3)).rejects.toThrow(/^a: length/);
  });
});
