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

/** Missing entries = mean of the observed entries in the smallest square neighbourhood that has any. */
export function fillNeighbourMean(scaled: Float64Array, mask: ArrayLike<number>, n1: number, n2: number): Float64Array {
  const out = Float64Array.from(scaled);
  for (let i = 0; i < n1; i++) {
    for (let j = 0; j < n2; j++) {
      if (mask[i * n2 + j] !== 0) continue;
      for (let r = 1; r < Math.max(n1, n2); r++) {
        let s = 0, c = 0;
        for (let a = Math.max(0, i - r); a <= Math.min(n1 - 1, i + r); a++) {
          for (let b = Math.max(0, j - r); b <= Math.min(n2 - 1, j + r); b++) {
            if (mask[a * n2 + b] !== 0) {
              s += scaled[a * n2 + b]!;
              c++;
            }
          }
        }
        if (c > 0) {
          out[i * n2 + j] = s / c;
          break;
        }
      }
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
