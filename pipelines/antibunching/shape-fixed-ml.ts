/**
 * Estimator (b): Poisson maximum likelihood of g2(0) and the scale A with the
 * curve shape fixed from a calibration (shape.ts): λ_b = A(1 − (1 − g0) v_b).
 * For fixed g0 the ML scale is closed form, A = N / Σ_b (1 − (1 − g0) v_b),
 * so the fit is a 1D maximisation of the profile log-likelihood over g0
 * (grid, then golden section), touching only the non-empty bins of a
 * sparse histogram. Its uncertainty is the Cramér–Rao bound at the estimate.
 */
import { crbShapeKnown } from './crb.js';
import type { G2Estimate } from './estimate.js';

/** Range searched for g2(0) (noise can push the estimate above 1). */
export const G0_MIN = 0;
export const G0_MAX = 2;

export interface ShapeFixedFitter {
  /** Fits one histogram (counts per bin, length = bins). */
  fit(histogram: ArrayLike<number>): G2Estimate;
}

export function shapeFixedFitter(v: Float64Array): ShapeFixedFitter {
  const bins = v.length;
  let sumV = 0;
  let minV = Infinity;
  for (let b = 0; b < bins; b++) {
    sumV += v[b]!;
    minV = Math.min(minV, v[b]!);
  }
  // λ > 0 in every bin: 1 − (1 − g0)·v_b > 0; with bunching (v_b < 0) this caps g0.
  const g0Max = minV < 0 ? Math.min(G0_MAX, 1 + 0.999 / -minV) : G0_MAX;
  const idx = new Int32Array(bins);
  const cnt = new Float64Array(bins);
  return {
    fit(histogram) {
      if (histogram.length !== bins) throw new RangeError(`histogram: length ${histogram.length}, expected ${bins}`);
      let nz = 0;
      let events = 0;
      for (let b = 0; b < bins; b++) {
        const y = histogram[b]!;
        if (!(y >= 0)) throw new RangeError(`histogram[${b}]: must be a count ≥ 0, got ${y}`);
        if (y > 0) {
          idx[nz] = b;
          cnt[nz++] = y;
          events += y;
        }
      }
      if (events === 0) return { g2: 1, std: Infinity, crb: Infinity, events: 0, scale: 0 };
      const profile = (g0: number) => {
        const c = 1 - g0;
        let s = 0;
        for (let i = 0; i < nz; i++) s += cnt[i]! * Math.log(1 - c * v[idx[i]!]!);
        return s - events * Math.log(bins - c * sumV);
      };
      // Coarse grid, then golden section around the best grid point.
      const steps = 40;
      let best = 0;
      let bestL = -Infinity;
      for (let k = 0; k <= steps; k++) {
        const g0 = G0_MIN + ((g0Max - G0_MIN) * k) / steps;
        const l = profile(g0);
        if (l > bestL) {
          bestL = l;
          best = k;
        }
      }
      const h = (g0Max - G0_MIN) / steps;
      let a = Math.max(G0_MIN, G0_MIN + (best - 1) * h);
      let d = Math.min(g0Max, G0_MIN + (best + 1) * h);
      const phi = (Math.sqrt(5) - 1) / 2;
      let x1 = d - phi * (d - a);
      let x2 = a + phi * (d - a);
      let f1 = profile(x1);
      let f2 = profile(x2);
      for (let it = 0; it < 40 && d - a > 1e-6; it++) {
        if (f1 >= f2) {
          d = x2;
          x2 = x1;
          f2 = f1;
          x1 = d - phi * (d - a);
          f1 = profile(x1);
        } else {
          a = x1;
          x1 = x2;
          f1 = f2;
          x2 = a + phi * (d - a);
          f2 = profile(x2);
        }
      }
      let g0 = (a + d) / 2;
      // The ends of the range are candidates too (the maximum may sit on a bound).
      for (const e of [G0_MIN, g0Max]) if (profile(e) > profile(g0)) g0 = e;
      const scale = events / (bins - (1 - g0) * sumV);
      const crb = crbShapeKnown(v, g0, scale);
      return { g2: g0, std: crb, crb, events, scale };
    },
  };
}
