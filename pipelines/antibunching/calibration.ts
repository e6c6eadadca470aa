/**
 * The calibration step: a long acquisition on the brightest spot, fitted
 * with the full three-level model (LM), gives the curve shape the
 * shape-fixed estimators hold fixed, and the peak G2 the stop rule scales by.
 */
import type { HbtGeometry } from '../../drivers/hbt/model.js';
import { calibrationFromThreeLevel, shapeVector, type ShapeCalibration } from './shape.js';
import { fitThreeLevel, type ThreeLevelFit } from './three-level-fit.js';
import type { ScanCalibration } from './scan.js';

export interface CalibrationResult extends ScanCalibration {
  curve: ShapeCalibration;
  fit: ThreeLevelFit;
  /** PL rate at the calibration spot, counts/s. */
  rate: number;
}

export function calibrate(histogram: ArrayLike<number>, photons: number, seconds: number, geometry: HbtGeometry): CalibrationResult {
  if (!(seconds > 0)) throw new RangeError(`seconds: must be > 0, got ${seconds}`);
  const fit = fitThreeLevel(histogram, geometry);
  if (fit.events === 0) throw new Error('calibration: the calibration histogram holds no events (is the spot dark?)');
  const [, g0, t1, a2, t2] = fit.theta as unknown as number[];
  const curve = calibrationFromThreeLevel({ a1: 1 + a2! - g0!, t1: t1!, a2: a2!, t2: t2! });
  const rate = photons / seconds;
  return { curve, fit, rate, shape: shapeVector(curve, geometry), g2Peak: rate * rate * Math.max(1 - g0!, 0.05) };
}
