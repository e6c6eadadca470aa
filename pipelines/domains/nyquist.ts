/**
 * The resolution limit: a texture whose period is below two LR pixels (2f HR
 * sites) cannot be recovered from LR frames alone by any method — its
 * content aliases into longer periods. qscope flags such output as
 * unresolved instead of claiming it. The period comes from what the model
 * was trained on (model.json `trainedOn.periodHr`) or, failing that, from the
 * LR frames' power spectrum (`dominantPeriod`).
 */
import { fft } from '../../native/index.js';

/** Period of Type I cycloids, 2π/atan(D/J) sites at the paper's D/J = 0.3 (decision 1500). */
export const TYPE1_PERIOD_HR = (2 * Math.PI) / Math.atan(0.3);

/**
 * Dominant period of a periodic n×n map (one channel, row-major), in pixels:
 * the radially binned power spectrum's peak ring, refined by the power-weighted
 * mean |k| over 0.5–1.5× that ring. Infinity for a constant map.
 */
export function dominantPeriod(map: ArrayLike<number>, n: number): number {
  if (map.length !== n * n) throw new RangeError(`map: ${map.length} values, expected ${n}²`);
  let mean = 0;
  for (let i = 0; i < map.length; i++) mean += map[i]!;
  mean /= map.length;
  const x = Float64Array.from(map, (v) => v - mean);
  const { re, im } = fft(x, new Float64Array(n * n), [n, n]);
  const ring = new Float64Array(n);
  const pts: [number, number][] = [];
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) {
      const ka = a <= n / 2 ? a : a - n, kb = b <= n / 2 ? b : b - n;
      const k = Math.hypot(ka, kb);
      if (k === 0) continue;
      const p = re[a * n + b]! ** 2 + im[a * n + b]! ** 2;
      ring[Math.round(k)]! += p;
      pts.push([k, p]);
    }
  let kp = 1;
  for (let k = 1; k < ring.length; k++) if (ring[k]! > ring[kp]!) kp = k;
  if (!(ring[kp]! > 0)) return Infinity;
  let wk = 0, w = 0;
  for (const [k, p] of pts) if (k > 0.5 * kp && k < 1.5 * kp) (wk += k * p), (w += p);
  return n / (wk / w);
}

export interface NyquistReport {
  /** Period of the texture, HR sites, and where it came from. */
  periodHr: number;
  source: 'model' | 'lr-spectrum';
  /** Two LR pixels, HR sites (2f). */
  limitHr: number;
  /** True when periodHr < limitHr: the SR output is not a recovery of the texture. */
  unresolved: boolean;
  /** Dominant period seen in the LR frames, LR pixels (aliased when unresolved). */
  lrPeriodPx: number;
}

/** The Nyquist check for LR frames [a, a, C] at factor f; S_z (last channel) is analysed. */
export function nyquistCheck(frames: readonly Float32Array[], a: number, components: number, f: number, modelPeriodHr?: number): NyquistReport {
  let lrPeriod = 0;
  for (const fr of frames) {
    const sz = new Float64Array(a * a);
    for (let i = 0; i < a * a; i++) sz[i] = fr[i * components + components - 1]!;
    lrPeriod += dominantPeriod(sz, a);
  }
  lrPeriod /= Math.max(frames.length, 1);
  const periodHr = modelPeriodHr ?? lrPeriod * f;
  return { periodHr, source: modelPeriodHr !== undefined ? 'model' : 'lr-spectrum', limitHr: 2 * f, unresolved: periodHr < 2 * f, lrPeriodPx: lrPeriod };
}
