/**
 * The one metrics module of qscope (DESIGN.md): RMSE, MSE, PSNR, SSIM, SNR,
 * spin correlation, MAPE, r², FWHM. Each experiment extends it in its own
 * section; nobody writes a second copy of a metric elsewhere.
 *
 * Conventions: arrays are C-ordered; images are given with their shape
 * `[ny, nx]`; every function throws a RangeError naming the argument on
 * mismatched lengths or empty input.
 */

export type NumericArray = ArrayLike<number>;

/** Throws unless `a` and `b` are non-empty and of equal length. */
export function checkSameLength(a: NumericArray, b: NumericArray, names: [string, string] = ['a', 'b']): void {
  if (a.length === 0) throw new RangeError(`${names[0]}: must not be empty`);
  if (a.length !== b.length) throw new RangeError(`${names[1]}: length ${b.length} does not match ${names[0]} length ${a.length}`);
}

/** Mean squared error between an estimate and a reference. */
export function mse(estimate: NumericArray, reference: NumericArray): number {
  checkSameLength(estimate, reference, ['estimate', 'reference']);
  let s = 0;
  for (let i = 0; i < estimate.length; i++) {
    const d = estimate[i]! - reference[i]!;
    s += d * d;
  }
  return s / estimate.length;
}

/** Root mean squared error, in the units of the data. */
export function rmse(estimate: NumericArray, reference: NumericArray): number {
  return Math.sqrt(mse(estimate, reference));
}

/** Peak signal-to-noise ratio in dB, 10·log10(max²/MSE); `max` is the data range (e.g. 2 for spins in [−1, 1]). */
export function psnr(estimate: NumericArray, reference: NumericArray, max: number): number {
  if (!(max > 0)) throw new RangeError(`max: must be > 0, got ${max}`);
  return 10 * Math.log10((max * max) / mse(estimate, reference));
}

// ==================== antibunching-scan (g2) metrics ====================

// ==================== cosy-2d metrics ====================

// ==================== later experiments ====================
