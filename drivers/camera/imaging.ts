/**
 * The imaging model of the domain-imaging paper (issue 15): a periodic
 * Gaussian blur (23×23 kernel, σ = 1 HR pixel, normalised to sum 1) followed
 * by a stride f, so LR pixel (a, b) is the blurred HR value at (a·f, b·f).
 * The camera simulator images its sample through it, and the SR pipeline's
 * fixed down-sampling layer is the same operator (one copy: this file).
 *
 * Arrays are row-major [rows, cols, C] (components innermost).
 */

/** Side of the blur kernel, HR pixels. */
export const BLUR_KERNEL = 23;
/** σ of the blur, HR pixels. */
export const BLUR_SIGMA = 1;

/** The normalised 1D Gaussian taps (the 2D kernel is their outer product), centre at index (k − 1)/2. */
export function gaussianTaps(kernel = BLUR_KERNEL, sigma = BLUR_SIGMA): Float64Array {
  if (!Number.isInteger(kernel) || kernel < 1 || kernel % 2 === 0) throw new RangeError(`kernel: must be an odd integer ≥ 1, got ${kernel}`);
  if (!(sigma > 0)) throw new RangeError(`sigma: must be > 0, got ${sigma}`);
  const h = (kernel - 1) / 2;
  const t = new Float64Array(kernel);
  let s = 0;
  for (let i = 0; i < kernel; i++) s += t[i] = Math.exp(-((i - h) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < kernel; i++) t[i]! /= s;
  return t;
}

/** The 2D kernel [k, k], normalised to sum 1 (outer product of `gaussianTaps`). */
export function gaussianKernel2d(kernel = BLUR_KERNEL, sigma = BLUR_SIGMA): Float64Array {
  const t = gaussianTaps(kernel, sigma);
  const k = new Float64Array(kernel * kernel);
  for (let i = 0; i < kernel; i++) for (let j = 0; j < kernel; j++) k[i * kernel + j] = t[i]! * t[j]!;
  return k;
}

/** A periodic HR field [rows, cols, C]. */
export interface Field {
  data: ArrayLike<number>;
  rows: number;
  cols: number;
  channels: number;
}

/**
 * Samples the blurred periodic `hr` field on an LR grid: out[a, b, c] =
 * Σ_{i,j} K[i, j] · hr[(r0 + a·f + i − h) mod rows, (c0 + b·f + j − h) mod cols, c]
 * for a < outRows, b < outCols, with K the 2D kernel, h = (k − 1)/2. `select`
 * picks the HR channels to output (default all). Separable: 23 + 23 taps per sample.
 */
export function blurSample(
  hr: Field,
  r0: number,
  c0: number,
  f: number,
  outRows: number,
  outCols: number,
  select?: readonly number[],
  taps: Float64Array = gaussianTaps(),
): Float64Array {
  const ch = select ?? [...Array(hr.channels).keys()];
  const C = ch.length;
  const k = taps.length;
  const h = (k - 1) / 2;
  const out = new Float64Array(outRows * outCols * C);
  const rowAcc = new Float64Array(k * C);
  const mod = (v: number, n: number) => ((v % n) + n) % n;
  for (let a = 0; a < outRows; a++) {
    for (let b = 0; b < outCols; b++) {
      // Blur along columns for each of the k rows, then along rows.
      rowAcc.fill(0);
      for (let i = 0; i < k; i++) {
        const r = mod(r0 + a * f + i - h, hr.rows);
        for (let j = 0; j < k; j++) {
          const base = (r * hr.cols + mod(c0 + b * f + j - h, hr.cols)) * hr.channels;
          const w = taps[j]!;
          for (let c = 0; c < C; c++) rowAcc[i * C + c]! += w * hr.data[base + ch[c]!]!;
        }
      }
      const o = (a * outCols + b) * C;
      for (let i = 0; i < k; i++) for (let c = 0; c < C; c++) out[o + c]! += taps[i]! * rowAcc[i * C + c]!;
    }
  }
  return out;
}
