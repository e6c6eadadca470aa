/**
 * Estimator (a), the paper's baseline: Levenberg–Marquardt fit of the full
 * three-level model λ_b = A(1 − a1 D_b(t1) + a2 D_b(t2)), a1 = 1 + a2 − g0,
 * parameters θ = (A, g0, t1, a2, q = t2/t1), with
 * - Poisson weighting: iteratively reweighted least squares, weights 1/λ_b
 *   from the previous fit (converges to the Poisson ML fit), never 1/y_b
 *   (which is infinite or biased in sparse histograms);
 * - bounds keeping the model physical (q ≥ 2: shelving is slower than the
 *   lifetime, which also keeps the two exponentials from trading places);
 * - initial guesses from the data (far-delay mean for A, the central bins
 *   for g0) and two starting lifetimes, keeping the best deviance;
 * - its uncertainty from (Jᵀ W J)⁻¹ at the solution.
 */
import { binAveragedDecay, type HbtGeometry } from '../../drivers/hbt/model.js';
import { levenbergMarquardt } from '../core/lm.js';
import { crbShapeKnown } from './crb.js';
import type { G2Estimate } from './estimate.js';
import { shapeVector } from './shape.js';

export interface ThreeLevelFit extends G2Estimate {
  /** Fitted (A, g0, t1 ns, a2, t2 ns) (t2 = q·t1 converted back). */
  theta: Float64Array;
}

const LOWER = Float64Array.from([1e-9, 0, 2, 0, 2]);
const UPPER = Float64Array.from([Infinity, 1.5, 200, 1, 200]);

/** Writes the model histogram for θ into `out`. */
export function threeLevelModel(g: HbtGeometry): (theta: Float64Array, out: Float64Array) => void {
  return (theta, out) => {
    const [A, g0, t1, a2, q] = theta as unknown as [number, number, number, number, number];
    const d1 = binAveragedDecay(t1, g);
    const d2 = binAveragedDecay(q * t1, g);
    const a1 = 1 + a2 - g0;
    for (let b = 0; b < g.bins; b++) out[b] = A * (1 - a1 * d1[b]! + a2 * d2[b]!);
  };
}

function deviance(y: ArrayLike<number>, lam: Float64Array): number {
  let d = 0;
  for (let b = 0; b < lam.length; b++) {
    const l = Math.max(lam[b]!, 1e-300);
    d += 2 * (l - y[b]! + (y[b]! > 0 ? y[b]! * Math.log(y[b]! / l) : 0));
  }
  return d;
}

/** Analytic Jacobian of threeLevelModel (lifetime derivatives of the bin averages by central differences). */
function threeLevelJacobian(g: HbtGeometry): (theta: Float64Array, out: Float64Array) => void {
  return (theta, J) => {
    const [A, g0, t1, a2, q] = theta as unknown as [number, number, number, number, number];
    const t2 = q * t1;
    const d1 = binAveragedDecay(t1, g);
    const d2 = binAveragedDecay(t2, g);
    const h1 = 1e-4 * t1;
    const h2 = 1e-4 * t2;
    const d1p = binAveragedDecay(t1 + h1, g);
    const d1m = binAveragedDecay(t1 - h1, g);
    const d2p = binAveragedDecay(t2 + h2, g);
    const d2m = binAveragedDecay(t2 - h2, g);
    const a1 = 1 + a2 - g0;
    for (let b = 0; b < g.bins; b++) {
      const r = 5 * b;
      J[r] = 1 - a1 * d1[b]! + a2 * d2[b]!;
      J[r + 1] = A * d1[b]!;
      const dD2dt2 = (d2p[b]! - d2m[b]!) / (2 * h2);
      J[r + 2] = (-A * a1 * (d1p[b]! - d1m[b]!)) / (2 * h1) + A * a2 * dD2dt2 * q;
      J[r + 3] = A * (d2[b]! - d1[b]!);
      J[r + 4] = A * a2 * dD2dt2 * t1;
    }
  };
}

export function fitThreeLevel(y: ArrayLike<number>, g: HbtGeometry): ThreeLevelFit {
  if (y.length !== g.bins) throw new RangeError(`histogram: length ${y.length}, expected ${g.bins}`);
  let events = 0;
  for (let b = 0; b < g.bins; b++) events += y[b]!;
  if (events === 0) return { g2: 1, std: Infinity, crb: Infinity, events: 0, scale: 0, theta: Float64Array.from([0, 1, NaN, NaN, NaN]) };
  // Initial scale: mean of the bins beyond 150 ns (flat accidentals).
  let farSum = 0;
  let farN = 0;
  let cSum = 0;
  for (let b = 0; b < g.bins; b++) {
    const tau = Math.abs(b - g.zeroBin) * g.binWidthNs;
    if (tau > 150) {
      farSum += y[b]!;
      farN++;
    }
    if (Math.abs(b - g.zeroBin) <= 2) cSum += y[b]!;
  }
  const A0 = Math.max(farN ? farSum / farN : 0, events / g.bins, 1e-3);
  const g00 = Math.min(1.2, Math.max(0.05, cSum / 5 / A0));
  const model = threeLevelModel(g);
  const jacobian = threeLevelJacobian(g);
  const lam = new Float64Array(g.bins);
  const weights = new Float64Array(g.bins);
  let best: { theta: Float64Array; covariance: Float64Array; dev: number } | undefined;
  for (const t10 of [15, 60]) {
    let theta: Float64Array = Float64Array.from([A0, g00, t10, 0.1, Math.max(2, 300 / t10)]);
    let cov: Float64Array = new Float64Array(25).fill(NaN);
    for (let outer = 0; outer < 3; outer++) {
      model(theta, lam);
      // Poisson variance = λ; floored so that an almost-zero model bin cannot dominate.
      for (let b = 0; b < g.bins; b++) weights[b] = 1 / Math.max(lam[b]!, 0.05 * theta[0]!, 1e-6);
      const r = levenbergMarquardt({ model, jacobian, y, weights, lower: LOWER, upper: UPPER }, theta, { maxIterations: 60, tolerance: 1e-8 });
      theta = r.theta;
      cov = r.covariance;
    }
    model(theta, lam);
    const dev = deviance(y, lam);
    if (!best || dev < best.dev) best = { theta, covariance: cov, dev };
  }
  const th = Float64Array.from(best!.theta);
  th[4] = th[4]! * th[2]!; // q → t2
  const v = best!.covariance[1 * 5 + 1]!;
  const std = v > 0 ? Math.sqrt(v) : Infinity;
  const a1 = 1 + th[3]! - th[1]!;
  const crb = crbShapeKnown(shapeVector({ t1Ns: th[2]!, t2Ns: th[4]!, bunchingRatio: a1 > 0 ? Math.min(th[3]! / a1, 0.95) : 0 }, g), th[1]!, th[0]!);
  return { g2: th[1]!, std, crb, events, scale: th[0]!, theta: th };
}
