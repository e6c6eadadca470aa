/**
 * Cramér–Rao bounds on g2(0) from the Fisher information of Poisson bin
 * counts, I_jk = Σ_b ∂_j λ_b ∂_k λ_b / λ_b, over the histogram's bins.
 */
import { solveSymmetric } from '../core/lm.js';

/**
 * Bound on σ(g2(0)) with the curve shape known (v_b from shape.ts) and the
 * scale A a nuisance parameter: λ_b = A(1 − (1 − g0) v_b). `scale` is A for
 * the integration in question (expected accidentals per bin).
 * With `scaleKnown` the scale is taken as known (a tighter bound).
 */
export function crbShapeKnown(v: ArrayLike<number>, g0: number, scale: number, scaleKnown = false): number {
  if (!(scale > 0)) return Infinity;
  let iAA = 0;
  let iAg = 0;
  let igg = 0;
  for (let b = 0; b < v.length; b++) {
    const u = 1 - (1 - g0) * v[b]!;
    const lam = scale * u;
    if (!(lam > 0)) continue;
    const dA = u;
    const dg = scale * v[b]!;
    iAA += (dA * dA) / lam;
    iAg += (dA * dg) / lam;
    igg += (dg * dg) / lam;
  }
  if (scaleKnown) return 1 / Math.sqrt(igg);
  const det = iAA * igg - iAg * iAg;
  return det > 0 ? Math.sqrt(iAA / det) : Infinity;
}

/**
 * Bound on the variance of one parameter from a model λ(θ) with numeric
 * derivatives: [I(θ)⁻¹]_kk. `model` writes the expected counts per bin.
 */
export function crbNumeric(model: (theta: Float64Array, out: Float64Array) => void, theta: ArrayLike<number>, bins: number, k: number): number {
  const m = theta.length;
  const t = Float64Array.from(theta);
  const lam = new Float64Array(bins);
  model(t, lam);
  const d = new Float64Array(m * bins);
  const tmp = new Float64Array(bins);
  for (let j = 0; j < m; j++) {
    const h = 1e-5 * Math.max(Math.abs(t[j]!), 1e-3);
    t[j] = theta[j]! + h;
    model(t, tmp);
    t[j] = theta[j]! - h;
    model(t, d.subarray(j * bins, (j + 1) * bins));
    for (let b = 0; b < bins; b++) d[j * bins + b] = (tmp[b]! - d[j * bins + b]!) / (2 * h);
    t[j] = theta[j]!;
  }
  const I = new Float64Array(m * m);
  for (let b = 0; b < bins; b++) {
    if (!(lam[b]! > 0)) continue;
    for (let a = 0; a < m; a++) for (let c = 0; c < m; c++) I[a * m + c]! += (d[a * bins + b]! * d[c * bins + b]!) / lam[b]!;
  }
  const e = new Float64Array(m);
  e[k] = 1;
  const col = solveSymmetric(I, e, m);
  return col && col[k]! > 0 ? Math.sqrt(col[k]!) : Infinity;
}
