/**
 * Levenberg–Marquardt for small bounded weighted least-squares problems:
 * minimise Σ w_i (y_i − f_i(θ))² with lower/upper bounds on θ (projected
 * steps), a forward-difference Jacobian unless one is given, and Marquardt's
 * diagonal scaling. Used for the three-level g2 fit and the 2D Gaussian fits
 * of the images; sized for a handful of parameters (dense normal equations).
 */

export interface LmProblem {
  /** Model values f(θ) for every data point, written into `out`. */
  model(theta: Float64Array, out: Float64Array): void;
  y: ArrayLike<number>;
  /** Weights (1/variance); default all 1. */
  weights?: ArrayLike<number>;
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
  /** Optional analytic Jacobian, row-major (points × params). */
  jacobian?(theta: Float64Array, out: Float64Array): void;
}

export interface LmOptions {
  maxIterations?: number;
  /** Stop when the relative cost decrease falls below this. */
  tolerance?: number;
  lambda0?: number;
}

export interface LmResult {
  theta: Float64Array;
  /** Final weighted cost Σ w (y − f)². */
  cost: number;
  /** (Jᵀ W J)⁻¹ at the solution (covariance when the weights are 1/variance); NaN where singular. */
  covariance: Float64Array;
  iterations: number;
  converged: boolean;
}

export function levenbergMarquardt(p: LmProblem, theta0: ArrayLike<number>, o: LmOptions = {}): LmResult {
  const n = p.y.length;
  const m = theta0.length;
  if (n === 0) throw new RangeError('y: must not be empty');
  if (p.weights && p.weights.length !== n) throw new RangeError(`weights: length ${p.weights.length} does not match y length ${n}`);
  const lo = p.lower ?? new Float64Array(m).fill(-Infinity);
  const hi = p.upper ?? new Float64Array(m).fill(Infinity);
  const clamp = (t: Float64Array) => {
    for (let j = 0; j < m; j++) t[j] = Math.min(hi[j]!, Math.max(lo[j]!, t[j]!));
    return t;
  };
  const theta = clamp(Float64Array.from(theta0));
  const f = new Float64Array(n);
  const fTrial = new Float64Array(n);
  const J = new Float64Array(n * m);
  const w = (i: number) => (p.weights ? p.weights[i]! : 1);
  const costOf = (model: Float64Array) => {
    let c = 0;
    for (let i = 0; i < n; i++) c += w(i) * (p.y[i]! - model[i]!) ** 2;
    return c;
  };
  const jacobian = (t: Float64Array) => {
    if (p.jacobian) return p.jacobian(t, J);
    const tt = Float64Array.from(t);
    for (let j = 0; j < m; j++) {
      let h = 1e-6 * Math.max(Math.abs(t[j]!), 1e-3);
      // Step inward at an upper bound so the difference stays feasible.
      if (t[j]! + h > hi[j]!) h = -h;
      tt[j] = t[j]! + h;
      p.model(tt, fTrial);
      for (let i = 0; i < n; i++) J[i * m + j] = (fTrial[i]! - f[i]!) / h;
      tt[j] = t[j]!;
    }
  };
  const A = new Float64Array(m * m);
  const g = new Float64Array(m);
  const normal = () => {
    A.fill(0);
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const wi = w(i);
      const r = p.y[i]! - f[i]!;
      for (let a = 0; a < m; a++) {
        const ja = J[i * m + a]! * wi;
        g[a]! += ja * r;
        for (let b = 0; b <= a; b++) A[a * m + b]! += ja * J[i * m + b]!;
      }
    }
    for (let a = 0; a < m; a++) for (let b = 0; b < a; b++) A[b * m + a] = A[a * m + b]!;
  };

  p.model(theta, f);
  let cost = costOf(f);
  let lambda = o.lambda0 ?? 1e-3;
  const maxIt = o.maxIterations ?? 200;
  const tol = o.tolerance ?? 1e-10;
  let converged = false;
  let it = 0;
  const trial = new Float64Array(m);
  const M = new Float64Array(m * m);
  for (; it < maxIt; it++) {
    jacobian(theta);
    normal();
    let improved = false;
    while (lambda < 1e12) {
      M.set(A);
      for (let a = 0; a < m; a++) M[a * m + a]! += lambda * Math.max(A[a * m + a]!, 1e-12);
      const step = solveSymmetric(M, g, m);
      if (!step) {
        lambda *= 10;
        continue;
      }
      for (let a = 0; a < m; a++) trial[a] = theta[a]! + step[a]!;
      clamp(trial);
      p.model(trial, fTrial);
      const c = costOf(fTrial);
      if (Number.isFinite(c) && c <= cost) {
        const rel = (cost - c) / Math.max(cost, 1e-300);
        theta.set(trial);
        f.set(fTrial);
        cost = c;
        lambda = Math.max(lambda / 10, 1e-12);
        improved = true;
        if (rel < tol) converged = true;
        break;
      }
      lambda *= 10;
    }
    if (!improved) {
      converged = true; // no step lowers the cost: a (possibly bounded) minimum
      break;
    }
    if (converged) break;
  }
  jacobian(theta);
  normal();
  const covariance = invertSymmetric(A, m) ?? new Float64Array(m * m).fill(NaN);
  return { theta, cost, covariance, iterations: it, converged };
}

/** Solves M x = b for small symmetric M by Gaussian elimination with partial pivoting; null when singular. */
export function solveSymmetric(M: Float64Array, b: ArrayLike<number>, m: number): Float64Array | null {
  const a = Float64Array.from(M);
  const x = Float64Array.from(b);
  for (let c = 0; c < m; c++) {
    let piv = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(a[r * m + c]!) > Math.abs(a[piv * m + c]!)) piv = r;
    if (!(Math.abs(a[piv * m + c]!) > 1e-300)) return null;
    if (piv !== c) {
      for (let k = 0; k < m; k++) [a[c * m + k], a[piv * m + k]] = [a[piv * m + k]!, a[c * m + k]!];
      [x[c], x[piv]] = [x[piv]!, x[c]!];
    }
    for (let r = c + 1; r < m; r++) {
      const f = a[r * m + c]! / a[c * m + c]!;
      if (f === 0) continue;
      for (let k = c; k < m; k++) a[r * m + k]! -= f * a[c * m + k]!;
      x[r]! -= f * x[c]!;
    }
  }
  for (let c = m - 1; c >= 0; c--) {
    let s = x[c]!;
    for (let k = c + 1; k < m; k++) s -= a[c * m + k]! * x[k]!;
    x[c] = s / a[c * m + c]!;
  }
  return x;
}

/** Inverse of a small symmetric matrix (column by column); null when singular. */
export function invertSymmetric(M: Float64Array, m: number): Float64Array | null {
  const inv = new Float64Array(m * m);
  const e = new Float64Array(m);
  for (let c = 0; c < m; c++) {
    e.fill(0);
    e[c] = 1;
    const col = solveSymmetric(M, e, m);
    if (!col) return null;
    for (let r = 0; r < m; r++) inv[r * m + c] = col[r]!;
  }
  return inv;
}
