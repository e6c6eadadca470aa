/**
 * One antibunching scan: per-pixel summed histograms and photon counts, the
 * g2(0) / G2 maps from any estimator, the early-stopping rule, and the image
 * metrics. Shared by the online pipeline (pipeline.ts) and the offline
 * `qscope reconstruct g2` (reconstruct.ts), so both compute the same thing.
 *
 * G2(x, y) = ⟨N⟩²·(1 − g2(0)) with ⟨N⟩ the PL rate (counts/s).
 */
import type { HbtGeometry } from '../../drivers/hbt/model.js';
import { fitGaussian2D, type Gaussian2D } from '../core/metrics.js';
import type { StopDecision } from '../core/stopping.js';
import type { G2Estimate, G2Method } from './estimate.js';
import { shapeFixedFitter, type ShapeFixedFitter } from './shape-fixed-ml.js';
import { fitThreeLevel } from './three-level-fit.js';

export interface ScanMeta {
  ny: number;
  nx: number;
  pixelSizeNm: number;
  geometry: HbtGeometry;
}

export class HbtScanData {
  readonly pixels: number;
  /** Summed histograms, pixel-major (pixels × bins). */
  readonly hist: Float64Array;
  /** Photons counted per pixel (both detectors). */
  readonly photons: Float64Array;
  /** Integration time per pixel, s. */
  readonly seconds: Float64Array;

  constructor(readonly meta: ScanMeta) {
    if (!(Number.isInteger(meta.ny) && meta.ny > 0 && Number.isInteger(meta.nx) && meta.nx > 0)) throw new RangeError(`shape: [${meta.ny}, ${meta.nx}] must be positive integers`);
    this.pixels = meta.ny * meta.nx;
    this.hist = new Float64Array(this.pixels * meta.geometry.bins);
    this.photons = new Float64Array(this.pixels);
    this.seconds = new Float64Array(this.pixels);
  }

  add(pixel: number, histogram: ArrayLike<number>, photons: number, seconds: number): void {
    if (!Number.isInteger(pixel) || pixel < 0 || pixel >= this.pixels) throw new RangeError(`pixel: ${pixel} outside [0, ${this.pixels - 1}]`);
    const bins = this.meta.geometry.bins;
    if (histogram.length !== bins) throw new RangeError(`histogram: length ${histogram.length}, expected ${bins}`);
    const h = this.hist.subarray(pixel * bins, (pixel + 1) * bins);
    for (let b = 0; b < bins; b++) h[b]! += histogram[b]!;
    this.photons[pixel]! += photons;
    this.seconds[pixel]! += seconds;
  }

  histogram(pixel: number): Float64Array {
    const bins = this.meta.geometry.bins;
    return this.hist.subarray(pixel * bins, (pixel + 1) * bins);
  }

  /** PL rate, counts/s (0 where nothing was acquired). */
  rate(pixel: number): number {
    return this.seconds[pixel]! > 0 ? this.photons[pixel]! / this.seconds[pixel]! : 0;
  }
}

/** The calibration the shape-fixed estimators and the stop rule need. */
export interface ScanCalibration {
  /** v_b of the calibrated curve shape (shape.ts). */
  shape: Float64Array;
  /** G2 at the brightest spot, (counts/s)²: the image's scale for the stop rule. */
  g2Peak: number;
}

export interface ScanMaps {
  pl: Float64Array;
  g2: Float64Array;
  g2Std: Float64Array;
  crb: Float64Array;
  G2: Float64Array;
  G2Std: Float64Array;
  dwellS: Float64Array;
  events: Float64Array;
}

/** Runs a batch estimator (the CNN) on many histograms at once. */
export type BatchEstimator = (histograms: Float64Array, n: number) => Promise<{ g2: Float32Array; std: Float32Array }>;

export interface MapOptions {
  method: G2Method;
  calibration: ScanCalibration;
  cnn?: BatchEstimator;
  /** Pooling kernel σ in pixels (pooled method); default from `poolKernelSigmaPx`. */
  poolSigmaPx?: number;
}

/**
 * σ of the Gaussian pooling kernel, in pixels: its FWHM is a quarter of the
 * G2 PSF's (PL FWHM/√2), which widens the G2 image by √(1 + 1/16) ≈ 3 %.
 */
export function poolKernelSigmaPx(plFwhmNm: number, pixelSizeNm: number): number {
  return (plFwhmNm / Math.SQRT2 / 4 / (2 * Math.sqrt(2 * Math.LN2))) / pixelSizeNm;
}

/** Normalised Gaussian kernel weights within 3σ, and its effective pixel count 1/Σk². */
export function poolKernel(sigmaPx: number): { r: number; k: Float64Array; nEff: number } {
  const r = Math.max(1, Math.ceil(3 * sigmaPx));
  const n = 2 * r + 1;
  const k = new Float64Array(n * n);
  let s = 0;
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++) {
      const v = sigmaPx > 0 ? Math.exp(-(dx * dx + dy * dy) / (2 * sigmaPx * sigmaPx)) : dx === 0 && dy === 0 ? 1 : 0;
      k[(dy + r) * n + dx + r] = v;
      s += v;
    }
  let s2 = 0;
  for (let i = 0; i < k.length; i++) {
    k[i]! /= s;
    s2 += k[i]! ** 2;
  }
  return { r, k, nEff: 1 / s2 };
}

/** g2(0) and G2 maps of a scan with one estimator. */
export async function estimateMaps(data: HbtScanData, o: MapOptions): Promise<ScanMaps> {
  const { ny, nx, geometry } = data.meta;
  const P = data.pixels;
  const bins = geometry.bins;
  const m: ScanMaps = {
    pl: new Float64Array(P),
    g2: new Float64Array(P),
    g2Std: new Float64Array(P),
    crb: new Float64Array(P),
    G2: new Float64Array(P),
    G2Std: new Float64Array(P),
    dwellS: Float64Array.from(data.seconds),
    events: new Float64Array(P),
  };
  const v = o.calibration.shape;
  const fitter = shapeFixedFitter(v);
  for (let p = 0; p < P; p++) {
    m.pl[p] = data.rate(p);
    let e = 0;
    const h = data.histogram(p);
    for (let b = 0; b < bins; b++) e += h[b]!;
    m.events[p] = e;
  }
  const put = (p: number, est: Pick<G2Estimate, 'g2' | 'std' | 'crb'>) => {
    m.g2[p] = est.g2;
    m.g2Std[p] = est.std;
    m.crb[p] = est.crb;
    const n2 = m.pl[p]! ** 2;
    m.G2[p] = n2 * (1 - est.g2);
    m.G2Std[p] = n2 * est.std;
  };
  switch (o.method) {
    case 'shape-fixed-ml':
      for (let p = 0; p < P; p++) put(p, fitter.fit(data.histogram(p)));
      break;
    case 'lm':
      for (let p = 0; p < P; p++) put(p, fitThreeLevel(data.histogram(p), geometry));
      break;
    case 'cnn': {
      if (!o.cnn) throw new Error('method cnn: no CNN estimator was given');
      const r = await o.cnn(data.hist, P);
      for (let p = 0; p < P; p++) {
        const s = fitter.fit(data.histogram(p));
        put(p, { g2: r.g2[p]!, std: r.std[p]!, crb: s.crb });
      }
      break;
    }
    case 'pooled': {
      // (1) Unbiased linear deficit per pixel: λ_b = α − β·v_b by ordinary least
      //     squares (weights independent of the data, so E[β̂] = β at any count);
      // (2) the accidental level per unit PL², κ = α/(N²T), pooled over the whole scan;
      // (3) G2 = β/(κT) = ⟨N⟩²(1 − g2), smoothed with a Gaussian spatial prior.
      const ols = deficitOls(v);
      const G2raw = new Float64Array(P);
      const varRaw = new Float64Array(P);
      const alpha = new Float64Array(P);
      let aSum = 0;
      let n2tSum = 0;
      for (let p = 0; p < P; p++) {
        if (!(data.seconds[p]! > 0)) continue;
        const d = ols(data.histogram(p));
        alpha[p] = d.alpha;
        G2raw[p] = d.beta;
        varRaw[p] = d.varBeta;
        aSum += d.alpha;
        n2tSum += m.pl[p]! ** 2 * data.seconds[p]!;
      }
      const kappa = n2tSum > 0 ? aSum / n2tSum : NaN;
      for (let p = 0; p < P; p++) {
        const t = data.seconds[p]!;
        if (!(t > 0)) continue;
        // Physical range: 0 ≤ g2(0) ≤ 2 ⇒ |G2| ≤ ⟨N⟩². Without it one stray coincidence at
        // zero delay in a dark 1 s pixel reads as a G2 spike larger than the emitter's peak.
        const n2 = m.pl[p]! ** 2;
        G2raw[p] = Math.min(n2, Math.max(-n2, G2raw[p]! / (kappa * t)));
        varRaw[p] = Math.min(varRaw[p]! / (kappa * t) ** 2, n2 * n2);
      }
      const sigma = o.poolSigmaPx ?? 1;
      const { r, k } = poolKernel(sigma);
      const n = 2 * r + 1;
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          let wSum = 0;
          let g = 0;
          let vv = 0;
          let n2 = 0;
          for (let dy = -r; dy <= r; dy++)
            for (let dx = -r; dx <= r; dx++) {
              const yy = y + dy;
              const xx = x + dx;
              if (yy < 0 || yy >= ny || xx < 0 || xx >= nx) continue;
              const q = yy * nx + xx;
              if (!(data.seconds[q]! > 0)) continue;
              const w = k[(dy + r) * n + dx + r]!;
              wSum += w;
              g += w * G2raw[q]!;
              vv += w * w * varRaw[q]!;
              n2 += w * m.pl[q]! ** 2;
            }
          const p = y * nx + x;
          m.crb[p] = fitter.fit(data.histogram(p)).crb;
          if (!(wSum > 0) || !(n2 > 0)) {
            m.g2[p] = 1;
            m.g2Std[p] = Infinity;
            m.G2[p] = 0;
            m.G2Std[p] = Infinity;
            continue;
          }
          m.G2[p] = g / wSum;
          m.G2Std[p] = Math.sqrt(vv) / wSum;
          // The g2(0) this implies against the equally smoothed ⟨N⟩².
          m.g2[p] = 1 - m.G2[p]! / (n2 / wSum);
          m.g2Std[p] = m.G2Std[p]! / (n2 / wSum);
        }
      break;
    }
    default:
      throw new RangeError(`method: unknown '${String(o.method)}'`);
  }
  return m;
}

/**
 * Ordinary least squares of λ_b = α − β·v_b: unbiased at any count because
 * its weights do not depend on the data. Var(β̂) = Σ c_b² λ_b with the
 * fitted λ (clipped at 0).
 */
export function deficitOls(v: Float64Array): (y: ArrayLike<number>) => { alpha: number; beta: number; varBeta: number } {
  const n = v.length;
  let sv = 0;
  let svv = 0;
  for (let b = 0; b < n; b++) {
    sv += v[b]!;
    svv += v[b]! * v[b]!;
  }
  // X = [1, −v]; (XᵀX)⁻¹ of [[n, −Σv], [−Σv, Σv²]].
  const det = n * svv - sv * sv;
  const ca = new Float64Array(n);
  const cb = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    ca[b] = (svv - sv * v[b]!) / det;
    cb[b] = (sv - n * v[b]!) / det;
  }
  return (y) => {
    let alpha = 0;
    let beta = 0;
    for (let b = 0; b < n; b++) {
      alpha += ca[b]! * y[b]!;
      beta += cb[b]! * y[b]!;
    }
    let varBeta = 0;
    for (let b = 0; b < n; b++) varBeta += cb[b]! * cb[b]! * Math.max(alpha - beta * v[b]!, 0);
    return { alpha, beta, varBeta };
  };
}

/** Early-stopping settings of a scan. */
export interface StopPolicy {
  /** Target σ of G2 at a pixel, as a fraction of the peak G2. */
  targetFraction: number;
  /** Dwell cap, s. */
  maxDwellS: number;
  /** Minimum dwell before any stop, s. */
  minDwellS: number;
  /**
   * Factor by which the final estimator's pooling lowers σ (√n_eff of the
   * pooling kernel; 1 for per-pixel estimators): a pixel's own σ may be
   * this much above the target.
   */
  poolGain: number;
}

/**
 * Whether to stop acquiring at a pixel, from its own shape-fixed estimate:
 * - dark: even perfect antibunching (G2 ≤ ⟨N⟩²) would stay below the target σ;
 * - precision: ⟨N⟩²·σ(g2) ≤ target·G2_peak·poolGain;
 * - dwell cap.
 */
export function pixelStopDecision(est: G2Estimate, rate: number, seconds: number, g2Peak: number, policy: StopPolicy): StopDecision {
  const target = policy.targetFraction * g2Peak;
  if (seconds >= policy.maxDwellS) return { stop: true, reason: `dwell cap: ${seconds} s` };
  if (seconds < policy.minDwellS) return { stop: false, reason: 'continue' };
  const n2 = rate * rate;
  if (n2 < target) return { stop: true, reason: `dark: ⟨N⟩²=${n2.toPrecision(3)} < target σ(G2)=${target.toPrecision(3)} after ${seconds} s` };
  const sG2 = n2 * est.std;
  if (sG2 <= target * policy.poolGain) return { stop: true, reason: `precision: σ(G2)=${sG2.toPrecision(3)} ≤ ${(target * policy.poolGain).toPrecision(3)} after ${seconds} s` };
  return { stop: false, reason: 'continue' };
}

export interface ImageFwhm {
  pl: Gaussian2D;
  G2: Gaussian2D;
  /** G2 FWHM / PL FWHM (ideal 1/√2 ≈ 0.707). */
  ratio: number;
}

/** FWHM of the PL and G2 images by 2D Gaussian fits, nm. */
export function imageFwhm(maps: ScanMaps, meta: ScanMeta): ImageFwhm {
  const shape: [number, number] = [meta.ny, meta.nx];
  const pl = fitGaussian2D(maps.pl, shape, meta.pixelSizeNm);
  const G2 = fitGaussian2D(maps.G2, shape, meta.pixelSizeNm);
  return { pl, G2, ratio: G2.fwhm / pl.fwhm };
}

/**
 * FWHM (nm) of one emitter's PSF in an image: a 2D Gaussian fitted to a window of ±`windowFwhm`·`guessFwhmNm` around
 * the brightest pixel (after a 3×3 mean, so one noisy pixel does not pick the spot). A one-Gaussian fit of
 * the whole field is only right when it holds one emitter: with several far apart it spans them all (and
 * the pooling kernel sized from it blurs G2; issue 18, point 8). The window keeps at least 5×5 pixels.
 */
export function localPsfFwhm(image: ArrayLike<number>, shape: [number, number], pixelSizeNm: number, guessFwhmNm: number, windowFwhm = 1): number {
  const [ny, nx] = shape;
  let best = -Infinity, br = 0, bc = 0;
  for (let r = 0; r < ny; r++)
    for (let c = 0; c < nx; c++) {
      let s = 0, n = 0;
      for (let a = Math.max(0, r - 1); a <= Math.min(ny - 1, r + 1); a++)
        for (let b = Math.max(0, c - 1); b <= Math.min(nx - 1, c + 1); b++) {
          const v = image[a * nx + b]!;
          if (Number.isFinite(v)) [s, n] = [s + v, n + 1];
        }
      if (n > 0 && s / n > best) [best, br, bc] = [s / n, r, c];
    }
  const half = Math.max(2, Math.ceil((windowFwhm * guessFwhmNm) / pixelSizeNm));
  const r0 = Math.max(0, br - half), r1 = Math.min(ny, br + half + 1);
  const c0 = Math.max(0, bc - half), c1 = Math.min(nx, bc + half + 1);
  const crop = new Float64Array((r1 - r0) * (c1 - c0));
  for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) crop[(r - r0) * (c1 - c0) + (c - c0)] = image[r * nx + c]!;
  return fitGaussian2D(crop, [r1 - r0, c1 - c0], pixelSizeNm).fwhm;
}

/**
 * The PL PSF width the pooling kernel follows: measured around the brightest emitter of the PL map (a field
 * may hold several, far apart: see localPsfFwhm), else the configured `psfFwhmNm`.
 */
export function plPsfFwhmNm(pl: Float64Array, meta: ScanMeta, psfFwhmNm: number): number {
  try {
    const f = localPsfFwhm(pl, [meta.ny, meta.nx], meta.pixelSizeNm, psfFwhmNm);
    return Number.isFinite(f) && f > 0 ? f : psfFwhmNm;
  } catch {
    // A flat PL map (no emitter in the field): keep the configured PSF.
    return psfFwhmNm;
  }
}

/** Per-pixel shape-fixed estimate (the online stop rule's input). */
export function pixelEstimate(data: HbtScanData, pixel: number, fitter: ShapeFixedFitter): G2Estimate {
  return fitter.fit(data.histogram(pixel));
}
