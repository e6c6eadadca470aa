/**
 * The curve shape of the shape-fixed estimators: with t1, t2 and the ratio
 * r = a2/a1 known from a calibration acquisition, the expected histogram is
 *   λ_b = A · (1 − (1 − g2(0)) · v_b),
 * with v_b the bin-averaged, jittered (e^(−|τ|/t1) − r·e^(−|τ|/t2))/(1 − r),
 * which is 1 at zero delay. Fixing r (not a2) keeps the shape exact when
 * background or a second emitter dilutes the antibunching: dilution scales
 * a1 and a2 together (decision 0701).
 */
import { binAveragedDecay, type HbtGeometry, type ThreeLevel } from '../../drivers/hbt/model.js';

export interface ShapeCalibration {
  t1Ns: number;
  t2Ns: number;
  /** Bunching-to-antibunching amplitude ratio a2/a1, in [0, 1). */
  bunchingRatio: number;
}

export function calibrationFromThreeLevel(p: ThreeLevel): ShapeCalibration {
  return { t1Ns: p.t1, t2Ns: p.t2, bunchingRatio: p.a1 > 0 ? Math.min(p.a2 / p.a1, 0.95) : 0 };
}

export function checkCalibration(c: ShapeCalibration, path = 'calibration'): void {
  if (!(c.t1Ns > 0)) throw new RangeError(`${path}.t1Ns: must be > 0, got ${c.t1Ns}`);
  if (!(c.t2Ns > 0)) throw new RangeError(`${path}.t2Ns: must be > 0, got ${c.t2Ns}`);
  if (!(c.bunchingRatio >= 0 && c.bunchingRatio < 1)) throw new RangeError(`${path}.bunchingRatio: must be in [0, 1), got ${c.bunchingRatio}`);
}

/** v_b of the calibrated shape (1 at zero delay, unbinned). */
export function shapeVector(c: ShapeCalibration, g: HbtGeometry): Float64Array {
  checkCalibration(c);
  const d1 = binAveragedDecay(c.t1Ns, g);
  const d2 = c.bunchingRatio > 0 ? binAveragedDecay(c.t2Ns, g) : undefined;
  const v = new Float64Array(g.bins);
  for (let b = 0; b < g.bins; b++) v[b] = (d1[b]! - (d2 ? c.bunchingRatio * d2[b]! : 0)) / (1 - c.bunchingRatio);
  return v;
}
