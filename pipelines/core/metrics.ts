/**
 * The one metrics module of qscope (DESIGN.md): RMSE, MSE, PSNR, SSIM, SNR,
 * spin correlation, MAPE, r², FWHM. Each experiment extends it in its own
 * section; nobody writes a second copy of a metric elsewhere.
 *
 * Conventions: arrays are C-ordered; images are given with their shape
 * `[ny, nx]`; every function throws a RangeError naming the argument on
 * mismatched lengths or empty input.
 */

import { levenbergMarquardt } from './lm.js';

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

/**
 * Mean absolute percentage error, in percent: 100·mean(|est − ref| / |ref|).
 * Reference values must be non-zero (g2(0) ≥ 0.1 in practice).
 */
export function mape(estimate: NumericArray, reference: NumericArray): number {
  checkSameLength(estimate, reference, ['estimate', 'reference']);
  let s = 0;
  for (let i = 0; i < estimate.length; i++) {
    const r = reference[i]!;
    if (r === 0) throw new RangeError(`reference[${i}]: must be non-zero for MAPE`);
    s += Math.abs(estimate[i]! - r) / Math.abs(r);
  }
  return (100 * s) / estimate.length;
}

/** Coefficient of determination r² = 1 − SS_res/SS_tot of an estimate against a reference. */
export function rSquared(estimate: NumericArray, reference: NumericArray): number {
  checkSameLength(estimate, reference, ['estimate', 'reference']);
  let mean = 0;
  for (let i = 0; i < reference.length; i++) mean += reference[i]!;
  mean /= reference.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < reference.length; i++) {
    res += (estimate[i]! - reference[i]!) ** 2;
    tot += (reference[i]! - mean) ** 2;
  }
  if (tot === 0) throw new RangeError('reference: r² is undefined for a constant reference');
  return 1 - res / tot;
}

/** Result of a 2D Gaussian fit: widths in the unit of `pixelSize`. */
export interface Gaussian2D {
  amplitude: number;
  offset: number;
  /** Centre, in pixels (x = column, y = row). */
  x0: number;
  y0: number;
  fwhmX: number;
  fwhmY: number;
  /** Geometric mean √(fwhmX·fwhmY). */
  fwhm: number;
}

const SIGMA_TO_FWHM = 2 * Math.sqrt(2 * Math.LN2);

/**
 * FWHM of an image by least-squares fit of offset + A·exp(−(x−x0)²/2σx² − (y−y0)²/2σy²)
 * (axis-aligned, Levenberg–Marquardt), started from the image's moments.
 * `image` is [ny, nx] row-major; non-finite pixels are ignored.
 */
export function fitGaussian2D(image: NumericArray, shape: [number, number], pixelSize = 1): Gaussian2D {
  const [ny, nx] = shape;
  if (!(ny >= 3 && nx >= 3)) throw new RangeError(`shape: need at least 3×3 pixels, got [${ny}, ${nx}]`);
  if (image.length !== ny * nx) throw new RangeError(`image: length ${image.length} does not match shape [${ny}, ${nx}]`);
  const xs: number[] = [];
  const ys: number[] = [];
  const v: number[] = [];
  let min = Infinity;
  let max = -Infinity;
  for (let r = 0; r < ny; r++)
    for (let c = 0; c < nx; c++) {
      const z = image[r * nx + c]!;
      if (!Number.isFinite(z)) continue;
      xs.push(c);
      ys.push(r);
      v.push(z);
      min = Math.min(min, z);
      max = Math.max(max, z);
    }
  if (v.length < 6 || !(max > min)) throw new RangeError('image: needs at least 6 finite, non-constant pixels for a Gaussian fit');
  // Moments of the part above the minimum give the start.
  let w = 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < v.length; i++) {
    const a = v[i]! - min;
    w += a;
    mx += a * xs[i]!;
    my += a * ys[i]!;
  }
  mx /= w;
  my /= w;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < v.length; i++) {
    const a = v[i]! - min;
    sx += a * (xs[i]! - mx) ** 2;
    sy += a * (ys[i]! - my) ** 2;
  }
  const s0x = Math.max(0.5, Math.min(Math.sqrt(sx / w), nx));
  const s0y = Math.max(0.5, Math.min(Math.sqrt(sy / w), ny));
  const model = (t: Float64Array, out: Float64Array) => {
    for (let i = 0; i < v.length; i++) out[i] = t[1]! + t[0]! * Math.exp(-((xs[i]! - t[2]!) ** 2) / (2 * t[4]! * t[4]!) - (ys[i]! - t[3]!) ** 2 / (2 * t[5]! * t[5]!));
  };
  const r = levenbergMarquardt(
    { model, y: v, lower: [-Infinity, -Infinity, -nx, -ny, 0.1, 0.1], upper: [Infinity, Infinity, 2 * nx, 2 * ny, 10 * nx, 10 * ny] },
    [max - min, min, mx, my, s0x, s0y],
    { maxIterations: 300 },
  );
  const [A, off, x0, y0, sgx, sgy] = r.theta as unknown as number[];
  const fwhmX = SIGMA_TO_FWHM * sgx! * pixelSize;
  const fwhmY = SIGMA_TO_FWHM * sgy! * pixelSize;
  return { amplitude: A!, offset: off!, x0: x0!, y0: y0!, fwhmX, fwhmY, fwhm: Math.sqrt(fwhmX * fwhmY) };
}

/**
 * Two-peak test on a line profile: the two highest local maxima (at least
 * `minSeparation` samples apart) and the lowest value between them. `dip` is
 * that minimum over the lower peak (1 = no dip); resolved when dip < `criterion`
 * (0.9 by default, a Sparrow-like margin above noise).
 */
export function twoPeakDip(profile: NumericArray, minSeparation = 2, criterion = 0.9): { dip: number; peaks: [number, number] | null; resolved: boolean } {
  const n = profile.length;
  const maxima: number[] = [];
  for (let i = 1; i < n - 1; i++) if (profile[i]! >= profile[i - 1]! && profile[i]! > profile[i + 1]!) maxima.push(i);
  maxima.sort((a, b) => profile[b]! - profile[a]!);
  const first = maxima[0];
  const second = maxima.find((m) => first !== undefined && Math.abs(m - first) >= minSeparation);
  if (first === undefined || second === undefined) return { dip: 1, peaks: null, resolved: false };
  const [a, b] = first < second ? [first, second] : [second, first];
  let low = Infinity;
  for (let i = a; i <= b; i++) low = Math.min(low, profile[i]!);
  const dip = low / Math.min(profile[a]!, profile[b]!);
  return { dip, peaks: [a, b], resolved: dip < criterion };
}

// ==================== cosy-2d metrics ====================

/** A rectangle of a 2D array: rows [r0, r1), cols [c0, c1). */
export interface Region {
  rows: [number, number];
  cols: [number, number];
}

function checkRegion(r: Region, shape: readonly [number, number], name: string): void {
  const [n1, n2] = shape;
  const ok = (a: number, b: number, n: number) => Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b > a && b <= n;
  if (!ok(r.rows[0], r.rows[1], n1) || !ok(r.cols[0], r.cols[1], n2)) throw new RangeError(`${name}: rows ${r.rows} / cols ${r.cols} not a non-empty region of ${n1}×${n2}`);
}

/**
 * SNR in dB as the DLMC paper defines it for a 2D NMR spectrum: the largest
 * amplitude found in the peak windows against the mean amplitude of a blank
 * region (one without peaks): 20·log10(max_peaks / mean_blank). `spectrum` is
 * a magnitude spectrum [n1, n2] (C order).
 */
export function cosySnrDb(spectrum: NumericArray, shape: readonly [number, number], peaks: readonly Region[], blank: Region): number {
  const [n1, n2] = shape;
  if (spectrum.length !== n1 * n2) throw new RangeError(`spectrum: length ${spectrum.length} does not match shape ${n1}×${n2}`);
  if (peaks.length === 0) throw new RangeError('peaks: at least one peak window is needed');
  peaks.forEach((p, k) => checkRegion(p, shape, `peaks[${k}]`));
  checkRegion(blank, shape, 'blank');
  let peak = 0;
  for (const p of peaks) for (let i = p.rows[0]; i < p.rows[1]; i++) for (let j = p.cols[0]; j < p.cols[1]; j++) peak = Math.max(peak, Math.abs(spectrum[i * n2 + j]!));
  let sum = 0;
  for (let i = blank.rows[0]; i < blank.rows[1]; i++) for (let j = blank.cols[0]; j < blank.cols[1]; j++) sum += Math.abs(spectrum[i * n2 + j]!);
  const mean = sum / ((blank.rows[1] - blank.rows[0]) * (blank.cols[1] - blank.cols[0]));
  if (!(mean > 0)) return Infinity;
  return 20 * Math.log10(peak / mean);
}

/**
 * Structural similarity (Wang et al. 2004) of two images [n1, n2]: the mean
 * over all 7×7 windows (uniform weights, windows fully inside the image) of
 * (2μxμy + c1)(2σxy + c2) / ((μx² + μy² + c1)(σx² + σy² + c2)), with
 * c1 = (0.01·L)², c2 = (0.03·L)² and L = `dataRange` (default: the
 * reference's max − min). 1 only for identical images.
 */
export function ssim(estimate: NumericArray, reference: NumericArray, shape: readonly [number, number], opts: { dataRange?: number; window?: number } = {}): number {
  checkSameLength(estimate, reference, ['estimate', 'reference']);
  const [n1, n2] = shape;
  if (estimate.length !== n1 * n2) throw new RangeError(`shape: ${n1}×${n2} does not match length ${estimate.length}`);
  const w = opts.window ?? 7;
  if (!Number.isInteger(w) || w < 1 || w > n1 || w > n2) throw new RangeError(`window: must be an integer in [1, min(shape)], got ${w}`);
  let L = opts.dataRange;
  if (L === undefined) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < reference.length; i++) {
      lo = Math.min(lo, reference[i]!);
      hi = Math.max(hi, reference[i]!);
    }
    L = hi - lo || 1;
  }
  if (!(L > 0)) throw new RangeError(`dataRange: must be > 0, got ${L}`);
  const c1 = (0.01 * L) ** 2, c2 = (0.03 * L) ** 2;
  const area = w * w;
  let total = 0, count = 0;
  for (let i0 = 0; i0 + w <= n1; i0++) {
    for (let j0 = 0; j0 + w <= n2; j0++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let i = i0; i < i0 + w; i++) {
        for (let j = j0; j < j0 + w; j++) {
          const x = estimate[i * n2 + j]!, y = reference[i * n2 + j]!;
          sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
        }
      }
      const mx = sx / area, my = sy / area;
      // Unbiased (N − 1) window statistics, as in the reference implementation.
      const vx = (sxx - area * mx * mx) / (area - 1 || 1), vy = (syy - area * my * my) / (area - 1 || 1), cxy = (sxy - area * mx * my) / (area - 1 || 1);
      total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}

// ==================== later experiments ====================

// ==================== domain-imaging (domains) metrics ====================

/**
 * Spin correlation ⟨S·S′⟩: the mean over sites of the dot product of the
 * estimated and reference spins, arrays [..., C] with C components per site
 * (C = 1: S_z·S_z′). 1 for identical unit spins, 0 for unrelated ones.
 * (MSE and PSNR of spin maps are `mse` and `psnr` with max = 2 over every component value.)
 */
export function spinCorrelation(estimate: NumericArray, reference: NumericArray, components: number): number {
  checkSameLength(estimate, reference, ['estimate', 'reference']);
  if (!Number.isInteger(components) || components < 1 || estimate.length % components !== 0) {
    throw new RangeError(`components: must be a positive integer dividing the length ${estimate.length}, got ${components}`);
  }
  let s = 0;
  for (let i = 0; i < estimate.length; i++) s += estimate[i]! * reference[i]!;
  return s / (estimate.length / components);
}
