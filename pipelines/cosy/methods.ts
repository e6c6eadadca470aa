/**
 * The cosy-2d reconstruction methods (DLMC paper, Figs. 3–4) and the 2D
 * spectrum. Every method works on the map rescaled so its observed entries
 * span [0, 1] (as DLNet was trained) and returns the completed map on the
 * input's scale.
 *
 * - `orig`: missing entries = mean of their observed neighbours (the paper's baseline).
 * - `mc`:   singular value thresholding alone (native `svt`).
 * - `dl`:   DLNet alone.
 * - `dlmc`: DLNet, then SVT started from its output (native `svt` with `init`).
 * - `softimpute`: soft-impute completion (native `svt`, method 'softImpute') — not in the paper; offered
 *   because it beat SVT alone on held-out maps (docs/BENCHMARKS.md, decision 0803).
 *
 * SVT keeps the observed entries through its constraint on Ω (it stops once
 * ‖P_Ω(M − X)‖_F / ‖P_Ω(M)‖_F < tol), as in the paper; the output is its X.
 */
import { observedRange } from './simdata.js';

export const COSY_METHODS = ['orig', 'mc', 'dl', 'dlmc', 'softimpute'] as const;
export type CosyMethod = (typeof COSY_METHODS)[number];

/**
 * Settings of the native completion (native/index.ts SvtOptions). Unset
 * fields take the kernel's defaults (τ = 2·‖P_Ω(M−μ)‖_F/√p, δ = 1.9,
 * tol 1e-3, centred), which held up best on held-out simulated maps
 * (docs/BENCHMARKS.md).
 */
export interface SvtSettings {
  method?: 'svt' | 'softImpute' | 'hardImpute';
  tau?: number;
  delta?: number;
  tol?: number;
  maxIter?: number;
  rank?: number;
}

/** DLMC's SVT stops at a residual near the readout noise's share of the observed entries (decision 0803). */
export const DLMC_SVT_SETTINGS: SvtSettings = { tol: 0.3 };

/** The native completion kernel's signature (native/index.ts). */
export type SvtKernel = (
  observed: Float64Array,
  mask: Uint8Array,
  m: number,
  n: number,
  opts: SvtSettings & { init?: Float64Array; signal?: AbortSignal },
) => Promise<{ x: Float64Array; iterations: number; residual: number; rank: number }>;

/** Runs DLNet on maps already scaled to [0,1] on their observed entries (in-process or in a worker thread). */
export interface DLNetRunner {
  predict(inputs: Float64Array[], masks: Uint8Array[], n1: number, n2: number): Promise<Float64Array[]>;
}

export interface ReconstructOptions {
  method: CosyMethod;
  /** Needed by `dl` and `dlmc`. */
  dlnet?: DLNetRunner;
  /** Needed by `mc` and `dlmc` (default: the native kernel, loaded on first use). */
  svt?: SvtKernel;
  svtSettings?: SvtSettings;
  signal?: AbortSignal;
}

export interface Reconstruction {
  method: CosyMethod;
  /** Completed map on the input's scale, [n1, n2]. */
  map: Float64Array;
  /** The same on the [0,1] scale of the observed entries. */
  scaled: Float64Array;
  /** Observed range used for the scaling. */
  scale: { lo: number; hi: number };
  svt?: { iterations: number; residual: number; rank: number };
}

let nativeSvt: SvtKernel | undefined;

/** The native `svt`, loaded lazily so tests and tools that never complete a matrix skip the addon. */
export async function loadNativeSvt(): Promise<SvtKernel> {
  if (!nativeSvt) {
    const native = (await import('../../native/index.js')) as unknown as { svt?: SvtKernel };
    if (typeof native.svt !== 'function') throw new Error('native svt: not available in this build (native/index.ts has no svt export)');
    nativeSvt = native.svt;
  }
  return nativeSvt;
}

function checkInput(map: ArrayLike<number>, mask: ArrayLike<number>, n1: number, n2: number): void {
  if (!Number.isInteger(n1) || !Number.isInteger(n2) || n1 < 1 || n2 < 1) throw new RangeError(`shape: must be two positive integers, got ${n1}×${n2}`);
  if (map.length !== n1 * n2) throw new RangeError(`map: length ${map.length} does not match shape ${n1}×${n2}`);
  if (mask.length !== n1 * n2) throw new RangeError(`mask: length ${mask.length} does not match shape ${n1}×${n2}`);
  for (let i = 0; i < map.length; i++) {
    if (mask[i] !== 0 && !Number.isFinite(map[i]!)) throw new RangeError(`map: entry ${i} is sampled but not finite`);
  }
}

/**
 * Missing entries = mean of the observed entries in the smallest square neighbourhood that has any.
 * Scales as O(n1·n2·log n): summed-area tables of the mask (exact integers) find each gap's radius by
 * bisection; the mean is summed directly over small boxes (the original order of summation) and from a
 * summed-area table of the values over large ones (sparse maps, where the direct sum was O(n⁴) overall).
 */
export function fillNeighbourMean(scaled: Float64Array, mask: ArrayLike<number>, n1: number, n2: number): Float64Array {
  const out = Float64Array.from(scaled);
  const w = n2 + 1;
  const cnt = new Float64Array((n1 + 1) * w);
  const sum = new Float64Array((n1 + 1) * w);
  for (let i = 0; i < n1; i++) {
    for (let j = 0; j < n2; j++) {
      const m = mask[i * n2 + j] !== 0 ? 1 : 0;
      const k = (i + 1) * w + j + 1;
      cnt[k] = m + cnt[k - 1]! + cnt[k - w]! - cnt[k - w - 1]!;
      sum[k] = (m ? scaled[i * n2 + j]! : 0) + sum[k - 1]! + sum[k - w]! - sum[k - w - 1]!;
    }
  }
  const box = (t: Float64Array, a0: number, a1: number, b0: number, b1: number) => t[(a1 + 1) * w + b1 + 1]! - t[a0 * w + b1 + 1]! - t[(a1 + 1) * w + b0]! + t[a0 * w + b0]!;
  const rMax = Math.max(n1, n2) - 1;
  for (let i = 0; i < n1; i++) {
    for (let j = 0; j < n2; j++) {
      if (mask[i * n2 + j] !== 0) continue;
      const at = (r: number) => box(cnt, Math.max(0, i - r), Math.min(n1 - 1, i + r), Math.max(0, j - r), Math.min(n2 - 1, j + r));
      if (rMax < 1 || at(rMax) === 0) continue; // nothing observed at all: left as it was
      let lo = 1;
      let hi = rMax;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (at(mid) > 0) hi = mid;
        else lo = mid + 1;
      }
      const a0 = Math.max(0, i - lo), a1 = Math.min(n1 - 1, i + lo), b0 = Math.max(0, j - lo), b1 = Math.min(n2 - 1, j + lo);
      if ((a1 - a0 + 1) * (b1 - b0 + 1) <= 1024) {
        let s = 0, c = 0;
        for (let a = a0; a <= a1; a++) {
          for (let b = b0; b <= b1; b++) {
            if (mask[a * n2 + b] !== 0) {
              s += scaled[a * n2 + b]!;
              c++;
            }
          }
        }
        out[i * n2 + j] = s / c;
      } else out[i * n2 + j] = box(sum, a0, a1, b0, b1) / box(cnt, a0, a1, b0, b1);
    }
  }
  return out;
}

/** Reconstructs the full map from the observed entries of `map` (mask ≠ 0). */
export async function reconstruct(map: ArrayLike<number>, mask: Uint8Array, n1: number, n2: number, opts: ReconstructOptions): Promise<Reconstruction> {
  checkInput(map, mask, n1, n2);
  const { lo, hi } = observedRange(map, mask);
  const scaled = new Float64Array(n1 * n2);
  for (let i = 0; i < scaled.length; i++) if (mask[i] !== 0) scaled[i] = (map[i]! - lo) / (hi - lo);
  const settings: SvtSettings = { ...(opts.method === 'dlmc' ? DLMC_SVT_SETTINGS : {}), ...opts.svtSettings };
  const needDl = opts.method === 'dl' || opts.method === 'dlmc';
  if (needDl && !opts.dlnet) throw new Error(`method '${opts.method}': needs DLNet (no model loaded)`);
  let out: Float64Array;
  let svtInfo: Reconstruction['svt'];
  switch (opts.method) {
    case 'orig':
      out = fillNeighbourMean(scaled, mask, n1, n2);
      break;
    case 'dl':
      out = (await opts.dlnet!.predict([scaled], [mask], n1, n2))[0]!;
      break;
    case 'mc':
    case 'softimpute':
    case 'dlmc': {
      const init = opts.method === 'dlmc' ? (await opts.dlnet!.predict([scaled], [mask], n1, n2))[0]! : undefined;
      const svt = opts.svt ?? (await loadNativeSvt());
      const method = opts.method === 'softimpute' ? { method: 'softImpute' as const } : {};
      const r = await svt(scaled, mask, n1, n2, { ...method, ...settings, ...(init ? { init } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
      out = r.x;
      svtInfo = { iterations: r.iterations, residual: r.residual, rank: r.rank };
      break;
    }
    default:
      throw new RangeError(`method: must be one of ${COSY_METHODS.join(', ')}, got '${String(opts.method)}'`);
  }
  const unscaled = new Float64Array(out.length);
  for (let i = 0; i < out.length; i++) unscaled[i] = out[i]! * (hi - lo) + lo;
  return { method: opts.method, map: unscaled, scaled: out, scale: { lo, hi }, ...(svtInfo ? { svt: svtInfo } : {}) };
}

/**
 * Magnitude of the 2D FFT of the mean-free map, divided by n1·n2 and with
 * zero frequency centred (index ⌊n/2⌋ on each axis). Native FFT.
 */
export async function cosySpectrum(map: ArrayLike<number>, n1: number, n2: number): Promise<Float64Array> {
  const { fft, fftshift } = await import('../../native/index.js');
  if (map.length !== n1 * n2) throw new RangeError(`map: length ${map.length} does not match shape ${n1}×${n2}`);
  let mean = 0;
  for (let i = 0; i < map.length; i++) mean += map[i]!;
  mean /= map.length;
  const re = new Float64Array(map.length);
  for (let i = 0; i < map.length; i++) re[i] = map[i]! - mean;
  const X = fft(re, new Float64Array(map.length), [n1, n2]);
  const mag = new Float64Array(map.length);
  for (let i = 0; i < mag.length; i++) mag[i] = Math.hypot(X.re[i]!, X.im[i]!) / map.length;
  return fftshift(mag, [n1, n2]);
}

/** Frequency (kHz) of each index of a centred spectrum axis of `n` samples `stepUs` apart. */
export function spectrumAxisKHz(n: number, stepUs: number): Float64Array {
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = ((k - Math.floor(n / 2)) / (n * stepUs)) * 1e3;
  return out;
}
