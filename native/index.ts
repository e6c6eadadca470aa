/**
 * qscope/native — the project's C++ kernels (FFT, SVD + SVT, sampling masks).
 *
 * This is the one TypeScript module that declares and documents every export
 * of the addon `qscope_native.node`. Arguments are checked here, in TS, with
 * exact messages before the native call; the native side re-checks sizes so a
 * bad call can never read or write out of bounds.
 *
 * Layout conventions: every array is C-ordered (row-major, last axis
 * fastest). Kernels read the caller's typed arrays in place and never modify
 * them unless an option says so.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Finds build/Release/qscope_native.node from source (native/) or build output (dist/native/). */
function loadAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    for (const kind of ['Release', 'Debug']) {
      const candidate = join(dir, 'build', kind, 'qscope_native.node');
      if (existsSync(candidate)) return require(candidate) as NativeAddon;
    }
    dir = dirname(dir);
  }
  throw new Error('qscope native addon not found: run `npm install` (or `npm run build`) to compile it');
}

// The raw addon surface; each kernel family adds its native functions here.
interface NativeAddon {
  // ---- masks (native/masks.cc) ----
  randomMask(shape: readonly number[], fraction: number, seed: number): Uint8Array;
  poissonDiscMask(shape: readonly number[], minDistance: number, seed: number): Uint8Array;
  variableDensityMask(shape: readonly number[], fraction: number, centre: readonly number[], decay: number, seed: number): Uint8Array;
  randomMaskAsync(shape: readonly number[], fraction: number, seed: number): Promise<Uint8Array>;
  poissonDiscMaskAsync(shape: readonly number[], minDistance: number, seed: number): Promise<Uint8Array>;
  variableDensityMaskAsync(shape: readonly number[], fraction: number, centre: readonly number[], decay: number, seed: number): Promise<Uint8Array>;
  // ---- fft (native/fft.cc) ----
  // ---- svd (native/svd.cc) ----
  // ---- svt + adaptive sampling (native/svt.cc, native/masks.cc) ----
  [name: string]: unknown;
}

const addon: NativeAddon = loadAddon();

/** Shared argument check: a shape is a non-empty list of positive integers. */
export function checkShape(shape: readonly number[], name = 'shape'): number {
  if (!Array.isArray(shape) || shape.length === 0) throw new RangeError(`${name}: must be a non-empty array of positive integers`);
  let n = 1;
  shape.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) {
      throw new RangeError(`${name}[${i}]: must be a positive integer, got ${String(d)}`);
    }
    n *= d;
  });
  return n;
}

// ============================ masks ============================
// (owner: foundation issue)
//
// Sampling masks over an n-D grid: a Uint8Array in C order, 1 = sample.
// Deterministic for a seed on every platform (integer xoshiro256** in
// native/rng.h, integer draws, portable arithmetic). Each comes synchronous
// (small grids: a 256x256 mask takes milliseconds) and as `...Async`, which
// runs on the libuv thread pool and resolves to the identical mask (use it
// for large grids: a 1024x1024 variable-density mask takes ~0.5 s; on a
// virtual clock wrap it in `clock.hold()`). Bad arguments throw (sync) or
// reject (async) with a RangeError naming the argument.

/** Largest grid a mask may cover (points). */
export const MAX_MASK_POINTS = 2 ** 31 - 1;

function checkMaskShape(shape: readonly number[]): number {
  const n = checkShape(shape);
  if (shape.length > 32) throw new RangeError('shape: at most 32 dimensions');
  if (n > MAX_MASK_POINTS) throw new RangeError(`shape: ${n} points is more than 2^31-1`);
  return n;
}

function checkSeed(seed: number): void {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed: must be a non-negative safe integer, got ${String(seed)}`);
  }
}

/** round(fraction·n), checked: fraction in (0, 1] and at least one sample. */
function checkFraction(fraction: number, n: number): number {
  if (typeof fraction !== 'number' || !(fraction > 0) || fraction > 1) throw new RangeError(`fraction: must be in (0, 1], got ${String(fraction)}`);
  const k = Math.floor(fraction * n + 0.5);
  if (k < 1) throw new RangeError(`fraction: ${fraction} of ${n} points rounds to 0 samples`);
  return k;
}

/** Number of samples a mask of `fraction` over `shape` holds: round(fraction·N). */
export function maskSampleCount(shape: readonly number[], fraction: number): number {
  return checkFraction(fraction, checkMaskShape(shape));
}

/**
 * Uniform random mask with exactly round(fraction·N) samples (N = product of
 * `shape`), drawn by a partial Fisher–Yates shuffle.
 * @param shape grid size per axis, positive integers, C order
 * @param fraction share of points sampled, in (0, 1]
 * @param seed non-negative safe integer; the same seed gives the same mask everywhere
 */
export function randomMask(shape: readonly number[], fraction: number, seed: number): Uint8Array {
  checkFraction(fraction, checkMaskShape(shape));
  checkSeed(seed);
  return addon.randomMask(shape, fraction, seed);
}

/** `randomMask` on the thread pool: the same mask, without blocking the event loop. */
export async function randomMaskAsync(shape: readonly number[], fraction: number, seed: number): Promise<Uint8Array> {
  checkFraction(fraction, checkMaskShape(shape));
  checkSeed(seed);
  return addon.randomMaskAsync(shape, fraction, seed);
}

/**
 * Poisson-disc (blue-noise) mask: every two samples are at least
 * `minDistance` grid cells apart (Euclidean), and the set is maximal: every
 * other cell lies closer than `minDistance` to a sample. Built by visiting the
 * cells in a seeded random order and keeping each one that is far enough from
 * those kept (random sequential addition to saturation), so the sample count
 * follows from `minDistance` (about N / (1.44·minDistance²) in 2-D, the
 * saturation density of random sequential addition).
 * @param minDistance minimum distance between samples in grid cells, > 0 (≤ 1 samples every cell)
 */
export function poissonDiscMask(shape: readonly number[], minDistance: number, seed: number): Uint8Array {
  checkPoissonDisc(shape, minDistance, seed);
  return addon.poissonDiscMask(shape, minDistance, seed);
}

/** `poissonDiscMask` on the thread pool: the same mask, without blocking the event loop. */
export async function poissonDiscMaskAsync(shape: readonly number[], minDistance: number, seed: number): Promise<Uint8Array> {
  checkPoissonDisc(shape, minDistance, seed);
  return addon.poissonDiscMaskAsync(shape, minDistance, seed);
}

function checkPoissonDisc(shape: readonly number[], minDistance: number, seed: number): void {
  checkMaskShape(shape);
  if (typeof minDistance !== 'number' || !Number.isFinite(minDistance) || minDistance <= 0) {
    throw new RangeError(`minDistance: must be a finite number > 0, got ${String(minDistance)}`);
  }
  checkSeed(seed);
}

export interface VariableDensityOptions {
  /** Centre of the density peak in grid coordinates (fractional allowed); default the grid's middle, (n−1)/2 per axis. */
  centre?: readonly number[];
  /** Falloff length in grid cells: weight exp(−r/decay) at distance r from the centre; > 0. */
  decay: number;
}

/**
 * Variable-density mask, as used for Fourier-domain compressed sensing (dense
 * near the centre of k-space, or near t = 0 of a decaying time-domain signal
 * with `centre: [0, 0]`): exactly round(fraction·N) samples, drawn one after
 * another without replacement, each with probability proportional to
 * exp(−r/decay) among the cells not yet taken (weights quantised to 2⁻³²,
 * plus one quantum so every cell stays reachable).
 */
export function variableDensityMask(shape: readonly number[], fraction: number, options: VariableDensityOptions, seed: number): Uint8Array {
  const { centre, decay } = checkVariableDensity(shape, fraction, options, seed);
  return addon.variableDensityMask(shape, fraction, centre, decay, seed);
}

/** `variableDensityMask` on the thread pool: the same mask, without blocking the event loop. */
export async function variableDensityMaskAsync(shape: readonly number[], fraction: number, options: VariableDensityOptions, seed: number): Promise<Uint8Array> {
  const { centre, decay } = checkVariableDensity(shape, fraction, options, seed);
  return addon.variableDensityMaskAsync(shape, fraction, centre, decay, seed);
}

function checkVariableDensity(shape: readonly number[], fraction: number, options: VariableDensityOptions, seed: number): { centre: readonly number[]; decay: number } {
  checkFraction(fraction, checkMaskShape(shape));
  if (typeof options !== 'object' || options === null) throw new RangeError('options: must be an object {centre?, decay}');
  const { decay } = options;
  if (typeof decay !== 'number' || !Number.isFinite(decay) || decay <= 0) throw new RangeError(`decay: must be a finite number > 0, got ${String(decay)}`);
  const centre = options.centre ?? shape.map((d) => (d - 1) / 2);
  if (!Array.isArray(centre) || centre.length !== shape.length) {
    throw new RangeError(`centre: must have ${shape.length} coordinates (one per axis), got ${Array.isArray(centre) ? centre.length : String(centre)}`);
  }
  centre.forEach((c, i) => {
    if (typeof c !== 'number' || !Number.isFinite(c)) throw new RangeError(`centre[${i}]: must be a finite number, got ${String(c)}`);
  });
  checkSeed(seed);
  return { centre, decay };
}

// ============================ fft ==============================
// (owner: FFT issue)

// ============================ svd ==============================
// (owner: SVD/SVT issue)

// ===================== svt + adaptive sampling =================
// (owner: SVD/SVT issue)

void addon;
