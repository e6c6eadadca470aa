// Synthetic maps for the SVD/SVT tests and the svd benchmark (plain JS so the
// benchmark can import it too). Random numbers come from the project's seeded
// Rng (built into dist/ by `npm run build` and by the test suite's setup).
import { Rng } from '../../dist/drivers/core/rng.js';

/**
 * offset + scale · L Rᵀ / √rank with standard normal L (m×rank), R (n×rank):
 * entries have standard deviation `scale`.
 * @returns {Float64Array} m×n, row-major
 */
export function lowRank(m, n, rank, seed, scale = 1, offset = 0) {
  const rng = new Rng(seed);
  const left = Array.from({ length: m * rank }, () => rng.normal());
  const right = Array.from({ length: n * rank }, () => rng.normal());
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < rank; c++) s += left[i * rank + c] * right[j * rank + c];
      out[i * n + j] = offset + (scale * s) / Math.sqrt(rank);
    }
  return out;
}

/** Uniform random m×n matrix in [-1, 1). */
export function randomMatrix(m, n, seed) {
  const rng = new Rng(seed);
  return Float64Array.from({ length: m * n }, () => rng.range(-1, 1));
}

/** A cosy-2d-like map: NV population ≈ 0.5 with two small damped 2D oscillations. */
export function nvMap(m, n, seed) {
  const rng = new Rng(seed);
  const terms = [0, 1].map(() => ({ w1: rng.range(0.1, 0.6), w2: rng.range(0.1, 0.6), a: rng.range(0.05, 0.1), t: rng.range(30, 70) }));
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let v = 0.5;
      for (const k of terms) v += k.a * Math.cos(k.w1 * i) * Math.cos(k.w2 * j) * Math.exp(-(i + j) / k.t / 2);
      out[i * n + j] = v;
    }
  return out;
}

/** Exactly round(p·size) sampled entries (1), uniformly at random. */
export function randomMask(size, p, seed) {
  const rng = Rng.derive(seed, 'mask');
  const idx = Array.from({ length: size }, (_, i) => i);
  const k = Math.round(p * size);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(size - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const mask = new Uint8Array(size);
  for (let i = 0; i < k; i++) mask[idx[i]] = 1;
  return mask;
}

/** The observed map: NaN where not sampled (svt must ignore those). */
export function observe(full, mask) {
  return full.map((v, i) => (mask[i] ? v : NaN));
}

/** ‖x − truth‖_F / ‖truth − c‖_F with c = mean(truth) when centred, else 0. */
export function relativeError(x, truth, centred = false) {
  const mean = centred ? truth.reduce((s, v) => s + v, 0) / truth.length : 0;
  let e = 0;
  let t = 0;
  for (let i = 0; i < x.length; i++) {
    e += (x[i] - truth[i]) ** 2;
    t += (truth[i] - mean) ** 2;
  }
  return Math.sqrt(e / t);
}
