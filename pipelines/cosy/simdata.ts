/**
 * Simulated COSY maps for DLNet training and evaluation, from the same
 * physics as the ODMR simulator (drivers/odmr/physics.ts), and the sampling
 * masks and scaling DLNet sees at inference.
 *
 * Scaling (paper: "normalized all map entries to [0, 1] and added Gaussian
 * noise σ = 0.1"): the clean map is scaled to [0, 1], noise N(0, σ) is added,
 * then — exactly as at inference, where only noisy observed entries exist —
 * the map is rescaled so its observed entries span [0, 1]; the training target
 * is the clean map on that same scale.
 */
import { Rng } from '../../drivers/core/rng.js';
import { COSY_GRID, DEFAULT_COSY_PARAMS, gridTimesS, populationMap, randomCluster, spinSystem, type Nucleus } from '../../drivers/odmr/physics.js';

export const COSY_N = COSY_GRID.n;

/** A clean population map of `nuclei` (n×n) with the given nuclear coherence time. */
export function cleanMap(nuclei: readonly Nucleus[], t2CoherenceS: number = DEFAULT_COSY_PARAMS.t2CoherenceS): Float64Array {
  const t = gridTimesS();
  return populationMap(spinSystem(nuclei), { ...DEFAULT_COSY_PARAMS, t2CoherenceS }, t, t);
}

/** A random clean training map: 2–5 nuclei (`maxSpins`), coherence time 0.8–3 ms, scaled to [0, 1]. */
export function randomCleanMap(rng: Rng, maxSpins = 5): Float64Array {
  const count = 2 + rng.int(Math.max(1, maxSpins - 1));
  const nuclei = randomCluster(count, rng);
  return scaleToUnit(cleanMap(nuclei, rng.range(0.8e-3, 3e-3)));
}

/** Min–max scaling of all entries to [0, 1] (a constant map becomes 0). */
export function scaleToUnit(map: ArrayLike<number>): Float64Array {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    lo = Math.min(lo, map[i]!);
    hi = Math.max(hi, map[i]!);
  }
  const span = hi - lo || 1;
  const out = new Float64Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = (map[i]! - lo) / span;
  return out;
}

/** Range of the observed (mask ≠ 0, finite) entries; throws when nothing is observed. */
export function observedRange(map: ArrayLike<number>, mask: ArrayLike<number>): { lo: number; hi: number } {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    if (mask[i] === 0 || !Number.isFinite(map[i]!)) continue;
    lo = Math.min(lo, map[i]!);
    hi = Math.max(hi, map[i]!);
  }
  if (lo === Infinity) throw new RangeError('mask: no observed entries');
  return { lo, hi: hi > lo ? hi : lo + 1 };
}

/** A uniformly random mask with round(fraction·n) sampled points (1 = sampled), at least one. */
export function randomMask(n: number, fraction: number, rng: Rng): Uint8Array {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`fraction: must be in (0, 1], got ${fraction}`);
  const k = Math.max(1, Math.round(fraction * n));
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  const mask = new Uint8Array(n);
  for (let i = 0; i < k; i++) mask[idx[i]!] = 1;
  return mask;
}

/** One training example: DLNet input on the observed-entries scale, target on the same scale. */
export interface Example {
  /** Noisy map scaled so its observed entries span [0,1] (values outside the mask are meaningless). */
  input: Float64Array;
  mask: Uint8Array;
  /** Clean map on the input's scale. */
  target: Float64Array;
}

/** Makes one example from a clean [0,1] map: noise σ, a random mask of `fraction`. */
export function makeExample(clean: Float64Array, fraction: number, sigma: number, rng: Rng): Example {
  const mask = randomMask(clean.length, fraction, rng);
  const noisy = new Float64Array(clean.length);
  for (let i = 0; i < clean.length; i++) noisy[i] = clean[i]! + rng.normal(0, sigma);
  const { lo, hi } = observedRange(noisy, mask);
  const input = new Float64Array(clean.length), target = new Float64Array(clean.length);
  for (let i = 0; i < clean.length; i++) {
    input[i] = (noisy[i]! - lo) / (hi - lo);
    target[i] = (clean[i]! - lo) / (hi - lo);
  }
  return { input, mask, target };
}

/** Seeds: training maps use `train/<i>`, held-out evaluation maps `heldout/<i>` — disjoint name spaces. */
export function trainingMap(seed: number, i: number): Float64Array {
  return randomCleanMap(Rng.derive(seed, `train/${i}`));
}

export function heldOutMap(seed: number, i: number): Float64Array {
  return randomCleanMap(Rng.derive(seed, `heldout/${i}`));
}
