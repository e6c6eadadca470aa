/**
 * qscope/native — the project's C++ kernels (FFT, SVD + SVT, sampling masks, MRFM, spin lattices).
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
  /** Complex transform along `axes` (sorted, non-negative) from (re, im) into (outRe, outIm); may alias. */
  fftC2C(re: FloatArray, im: FloatArray, outRe: FloatArray, outIm: FloatArray, shape: number[], axes: number[], inverse: boolean): void;
  fftC2CAsync(re: FloatArray, im: FloatArray, outRe: FloatArray, outIm: FloatArray, shape: number[], axes: number[], inverse: boolean): Promise<void>;
  /** Real-to-half-complex: the last of `axes` is halved to n/2+1 in (outRe, outIm). */
  fftR2C(x: FloatArray, outRe: FloatArray, outIm: FloatArray, shape: number[], axes: number[]): void;
  fftR2CAsync(x: FloatArray, outRe: FloatArray, outIm: FloatArray, shape: number[], axes: number[]): Promise<void>;
  /** Half-complex-to-real inverse; `shape` is the real (output) shape. */
  fftC2R(re: FloatArray, im: FloatArray, out: FloatArray, shape: number[], axes: number[]): void;
  fftC2RAsync(re: FloatArray, im: FloatArray, out: FloatArray, shape: number[], axes: number[]): Promise<void>;
  /** Plan-cache counters and the instruction set in use ('avx2' or 'generic'). */
  fftPlanCacheStats(): FftPlanCacheStats;
  // ---- svd (native/svd.cc) ----
  /** Args after validation in svd(); k = 0 means thin. Returns u/vt only when computeUV. */
  svd(a: Float64Array, m: number, n: number, k: number, computeUV: boolean, oversample: number, power: number, seed: number): RawSvd;
  svdAsync(a: Float64Array, m: number, n: number, k: number, computeUV: boolean, oversample: number, power: number, seed: number): Promise<RawSvd>;
  // ---- svt + adaptive sampling (native/svt.cc, native/sampling.cc) ----
  /** Queues one completion on the thread pool; cancel() is polled between iterations. */
  svtStart(observed: Float64Array, mask: Uint8Array, m: number, n: number, method: number, tau: number, delta: number,
    tol: number, maxIter: number, rank: number, center: boolean, init: Float64Array | null, initFloor: number): { promise: Promise<RawSvt>; cancel(): void };
  nextSamples(mask: Uint8Array, recon: Float64Array | null, m: number, n: number, k: number, strategy: number,
    uncertainty: Float64Array | null, minDistance: number, seed: number, rank: number): Uint32Array;
  // ---- mrfm (native/mrfm.cc) ----
  mrfmField(magnet: MrfmMagnet, rho: Float64Array, z: Float64Array): { bz: Float64Array; brho: Float64Array };
  mrfmPsf(job: RawPsfJob): Float32Array;
  mrfmPsfAsync(job: RawPsfJob): Promise<Float32Array>;
  mrfmForward(psf: Float32Array, dims: MrfmDims, voxelVolume: number, o: Float64Array): Float64Array;
  mrfmAdjoint(psf: Float32Array, dims: MrfmDims, voxelVolume: number, i: Float64Array): Float64Array;
  mrfmSolveNormal(psf: Float32Array, dims: MrfmDims, voxelVolume: number, nu1: number, nu2: number, rhs: Float64Array): Float64Array;
  mrfmReconstructStart(psf: Float32Array, dims: MrfmDims, voxelVolume: number, data: Float64Array, mask: Uint8Array | null, truth: Float64Array | null,
    opts: Record<string, number>): { promise: Promise<MrfmReconResult>; cancel(): void };
  mrfmBpdnStart(data: Float64Array, dims: MrfmDims, opts: Record<string, number>): { promise: Promise<MrfmBpdnResult>; cancel(): void };
  // ---- spins (native/spins.cc) ----
  spinsField(model: RawSpinModel, spins: Float64Array): Float64Array;
  spinsEnergy(model: RawSpinModel, spins: Float64Array): number;
  spinsAnnealStart(model: RawSpinModel, schedule: Required<Omit<AnnealSchedule, 'signal'>>, init: Float64Array | null): { promise: Promise<RawAnneal>; cancel(): void };
  [name: string]: unknown;
}

const addon: NativeAddon = loadAddon();

/**
 * Shared argument check: `options` is undefined or a plain object whose keys are all in `allowed`
 * (a misspelled key is named, as better-sqlite3 does). Returns the options, `{}` when undefined.
 */
function checkOptions(options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`options: must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'Array' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new TypeError(`options.${key}: unknown option (allowed: ${allowed.join(', ')})`);
  }
  return options as Record<string, unknown>;
}

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
  checkOptions(options, ['centre', 'decay']); // `center` would otherwise be ignored silently
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
// (owner: FFT issue) Kernels in native/fft.cc; decisions in docs/decisions/0300-fft-kernels.md.
//
// Conventions: DFT X[k] = sum_j x[j] exp(-2*pi*i*j*k/n) along each transformed
// axis. Forward transforms are unnormalised; inverse transforms are scaled by
// 1/n per axis (so inverse(forward(x)) = x). Units: if the sample spacing
// along an axis is d, output index k is frequency k/(n*d) for k < n/2 and
// (k-n)/(n*d) above (use fftshift to centre zero frequency). Complex data is
// split: two same-typed arrays `re` and `im` of the same C-ordered shape.
// Float32 in gives Float32 out, Float64 in gives Float64 out. Lengths of any
// size are O(n log n): mixed radix 2/3/4/5 + small primes, Bluestein otherwise.

/** The element types the FFT kernels take. */
export type FloatArray = Float32Array | Float64Array;

/** A split complex array: real and imaginary parts of one C-ordered shape. */
export interface ComplexArray<A extends FloatArray = FloatArray> {
  re: A;
  im: A;
}

/** Options of `fft` / `fftAsync`. */
export interface FftOptions {
  /** Axes to transform (negative counts from the end); default: all axes. `[-2, -1]` on a [z, y, x] stack is a batched 2D transform. */
  axes?: readonly number[];
  /** Inverse transform, scaled by 1/n over the transformed axes. Default false. */
  inverse?: boolean;
  /** Write the result into `re`/`im` and return them (no output allocation). Default false: inputs are never modified. */
  inPlace?: boolean;
}

/** Options of `rfft` / `irfft` (and their Async forms). */
export interface RfftOptions {
  /** Axes to transform; the last of them is the halved one (n -> floor(n/2)+1). Default: all axes. */
  axes?: readonly number[];
}

/** Plan-cache counters (diagnostics): cached plans, lookups served from the cache, plans built. */
export interface FftPlanCacheStats {
  plans: number;
  hits: number;
  misses: number;
  /** Kernel build in use: 'avx2' (AVX2+FMA) or 'generic'. */
  isa: string;
}

const FFT_OPTIONS = ['axes', 'inverse', 'inPlace'] as const;
const RFFT_OPTIONS = ['axes'] as const;

function checkFloatArray(a: unknown, name: string): asserts a is FloatArray {
  if (!(a instanceof Float32Array) && !(a instanceof Float64Array)) {
    throw new TypeError(`${name}: must be a Float32Array or Float64Array, got ${describe(a)}`);
  }
}

function describe(a: unknown): string {
  if (a === null) return 'null';
  if (typeof a === 'object') return (a as object).constructor?.name ?? 'object';
  return typeof a;
}

function checkSameType(a: FloatArray, b: unknown, nameA: string, nameB: string): void {
  checkFloatArray(b, nameB);
  if (a.constructor !== b.constructor) throw new TypeError(`${nameB}: must be a ${a.constructor.name} like ${nameA}, got ${b.constructor.name}`);
}

function checkLength(a: FloatArray, expected: number, name: string, shape: readonly number[]): void {
  if (a.length !== expected) {
    throw new RangeError(`${name}: length ${a.length} does not match shape [${shape.join(', ')}] (${expected} elements)`);
  }
}

/** Sorted, unique, non-negative axes; default all. */
function normaliseAxes(axes: readonly number[] | undefined, ndim: number): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  if (!Array.isArray(axes)) throw new TypeError('options.axes: must be an array of integers');
  if (axes.length === 0) throw new RangeError('options.axes: must not be empty');
  const out = axes.map((a, i) => {
    if (typeof a !== 'number' || !Number.isInteger(a) || a < -ndim || a >= ndim) {
      throw new RangeError(`options.axes[${i}]: must be an integer in [${-ndim}, ${ndim}), got ${String(a)}`);
    }
    return a < 0 ? a + ndim : a;
  });
  const sorted = [...out].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new RangeError(`options.axes: axis ${sorted[i]} given twice`);
  }
  return sorted;
}

/**
 * An output array for a kernel that writes every element: uninitialised
 * memory (no zero-fill), its own ArrayBuffer (not Node's shared Buffer pool).
 */
function alloc<A extends FloatArray>(like: A, length: number): A {
  const f32 = like instanceof Float32Array;
  const bytes = Buffer.allocUnsafeSlow(length * (f32 ? 4 : 8));
  return (f32 ? new Float32Array(bytes.buffer, bytes.byteOffset, length) : new Float64Array(bytes.buffer, bytes.byteOffset, length)) as A;
}

/**
 * The `re` and `im` outputs of a complex transform: two views of one
 * uninitialised ArrayBuffer, `im` starting 320 bytes after the end of `re`.
 * One allocation instead of two, and the two halves never start at the same
 * offset within a 4 KB page, which would put the kernel's re and im streams
 * in the same L1 cache sets (decision 1860: 1.1 µs of 7.6 at n = 1024, 8 of
 * 41 at 4096). Transferring `re.buffer` to a worker therefore moves `im` too.
 */
const PAIR_GAP_BYTES = 320;
function allocPair<A extends FloatArray>(like: A, length: number): ComplexArray<A> {
  const f32 = like instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const bytes = Buffer.allocUnsafeSlow(2 * length * size + PAIR_GAP_BYTES);
  const Arr = (f32 ? Float32Array : Float64Array) as unknown as new (b: ArrayBufferLike, offset: number, length: number) => A;
  return { re: new Arr(bytes.buffer, bytes.byteOffset, length), im: new Arr(bytes.buffer, bytes.byteOffset + length * size + PAIR_GAP_BYTES, length) };
}

function halvedShape(shape: readonly number[], axes: readonly number[]): number[] {
  const s = [...shape];
  const last = axes[axes.length - 1];
  s[last] = Math.floor(s[last] / 2) + 1;
  return s;
}

function prepareFft<A extends FloatArray>(re: A, im: A, shape: readonly number[], options: FftOptions | undefined) {
  checkFloatArray(re, 're');
  checkSameType(re, im, 're', 'im');
  const n = checkShape(shape);
  checkLength(re, n, 're', shape);
  checkLength(im, n, 'im', shape);
  checkOptions(options, FFT_OPTIONS);
  const axes = normaliseAxes(options?.axes, shape.length);
  if (options?.inverse !== undefined && typeof options.inverse !== 'boolean') throw new TypeError('options.inverse: must be a boolean');
  if (options?.inPlace !== undefined && typeof options.inPlace !== 'boolean') throw new TypeError('options.inPlace: must be a boolean');
  const out: ComplexArray<A> = options?.inPlace ? { re, im } : allocPair(re, n);
  return { axes, out, inverse: options?.inverse ?? false };
}

function prepareRfft<A extends FloatArray>(x: A, shape: readonly number[], options: RfftOptions | undefined) {
  checkFloatArray(x, 'x');
  const n = checkShape(shape);
  checkLength(x, n, 'x', shape);
  checkOptions(options, RFFT_OPTIONS);
  const axes = normaliseAxes(options?.axes, shape.length);
  const h = checkShape(halvedShape(shape, axes));
  return { axes, out: allocPair(x, h) };
}

function prepareIrfft<A extends FloatArray>(re: A, im: A, shape: readonly number[], options: RfftOptions | undefined) {
  checkFloatArray(re, 're');
  checkSameType(re, im, 're', 'im');
  const n = checkShape(shape);
  checkOptions(options, RFFT_OPTIONS);
  const axes = normaliseAxes(options?.axes, shape.length);
  const hs = halvedShape(shape, axes);
  const h = checkShape(hs);
  checkLength(re, h, 're', hs);
  checkLength(im, h, 'im', hs);
  return { axes, out: alloc(re, n) };
}

/**
 * Complex FFT of a C-ordered array along `options.axes` (default all).
 * Forward: X[k] = sum_j x[j] e^{-2 pi i jk/n}, unnormalised; `inverse: true`
 * uses e^{+2 pi i jk/n} and scales by 1/n per transformed axis.
 * @param re real part, shape `shape` (Float32Array or Float64Array)
 * @param im imaginary part, same type and length as `re`
 * @returns new arrays of the same type and shape, two views of one ArrayBuffer (or `re`/`im` with `inPlace`)
 * @throws TypeError wrong array type or option; RangeError length/shape/axes mismatch
 */
export function fft<A extends FloatArray>(re: A, im: A, shape: readonly number[], options?: FftOptions): ComplexArray<A> {
  const { axes, out, inverse } = prepareFft(re, im, shape, options);
  addon.fftC2C(re, im, out.re, out.im, [...shape], axes, inverse);
  return out;
}

/** `fft` computed on the libuv thread pool; do not touch (or transfer) the arrays until it settles. */
export async function fftAsync<A extends FloatArray>(re: A, im: A, shape: readonly number[], options?: FftOptions): Promise<ComplexArray<A>> {
  const { axes, out, inverse } = prepareFft(re, im, shape, options);
  await addon.fftC2CAsync(re, im, out.re, out.im, [...shape], axes, inverse);
  return out;
}

/**
 * Forward FFT of real data along `options.axes` (default all). The last
 * transformed axis is halved to floor(n/2)+1 (non-negative frequencies; the
 * rest follow from X[n-k] = conj X[k]); unnormalised.
 * @param x real input of shape `shape`
 * @returns `{re, im}` of the halved shape, same element type as `x`, two views of one ArrayBuffer
 */
export function rfft<A extends FloatArray>(x: A, shape: readonly number[], options?: RfftOptions): ComplexArray<A> {
  const { axes, out } = prepareRfft(x, shape, options);
  addon.fftR2C(x, out.re, out.im, [...shape], axes);
  return out;
}

/** `rfft` computed on the libuv thread pool. */
export async function rfftAsync<A extends FloatArray>(x: A, shape: readonly number[], options?: RfftOptions): Promise<ComplexArray<A>> {
  const { axes, out } = prepareRfft(x, shape, options);
  await addon.fftR2CAsync(x, out.re, out.im, [...shape], axes);
  return out;
}

/**
 * Inverse of `rfft`: half spectrum in, real array out, scaled by 1/n per
 * transformed axis. The imaginary parts of the zero (and, for even n, Nyquist)
 * terms of the halved axis are ignored.
 * @param re, im half spectrum: `shape` with its last transformed axis halved to floor(n/2)+1
 * @param shape the REAL output shape (it tells an even n from an odd one)
 */
export function irfft<A extends FloatArray>(re: A, im: A, shape: readonly number[], options?: RfftOptions): A {
  const { axes, out } = prepareIrfft(re, im, shape, options);
  addon.fftC2R(re, im, out, [...shape], axes);
  return out;
}

/** `irfft` computed on the libuv thread pool. */
export async function irfftAsync<A extends FloatArray>(re: A, im: A, shape: readonly number[], options?: RfftOptions): Promise<A> {
  const { axes, out } = prepareIrfft(re, im, shape, options);
  await addon.fftC2RAsync(re, im, out, [...shape], axes);
  return out;
}

/** Typed arrays `fftshift`/`ifftshift` accept (any numeric element type). */
export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray
  | Int16Array | Uint16Array | Int32Array | Uint32Array;

function roll<A extends NumericArray>(x: A, shape: readonly number[], axes: readonly number[] | undefined, inverse: boolean): A {
  const total = checkShape(shape);
  if (!ArrayBuffer.isView(x) || x instanceof DataView || (x as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT === undefined) {
    throw new TypeError(`x: must be a numeric typed array, got ${describe(x)}`);
  }
  if (x.length !== total) throw new RangeError(`x: length ${x.length} does not match shape [${shape.join(', ')}] (${total} elements)`);
  const ax = normaliseAxes(axes, shape.length);
  // shift per axis: output index (i + shift) mod n takes input index i
  const shift = shape.map((n, d) => (ax.includes(d) ? (inverse ? n - Math.floor(n / 2) : Math.floor(n / 2)) % n : 0));
  const out = new (x.constructor as new (n: number) => A)(total);
  const nd = shape.length;
  const last = shape[nd - 1];
  const sl = shift[nd - 1];
  const strides = new Array<number>(nd).fill(1);
  for (let d = nd - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  const rows = total / last;
  const idx = new Array<number>(nd).fill(0); // row index over the leading axes
  for (let r = 0; r < rows; r++) {
    let dst = 0;
    for (let d = 0; d < nd - 1; d++) dst += ((idx[d] + shift[d]) % shape[d]) * strides[d];
    const src = r * last;
    // last axis: two contiguous segments
    out.set(x.subarray(src, src + last - sl), dst + sl);
    out.set(x.subarray(src + last - sl, src + last), dst);
    for (let d = nd - 2; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Moves the zero-frequency term to the centre of `axes` (default all): a
 * cyclic shift by floor(n/2) along each axis, as numpy.fft.fftshift. Returns a
 * new array of the same type; `x` is not modified.
 */
export function fftshift<A extends NumericArray>(x: A, shape: readonly number[], axes?: readonly number[]): A {
  return roll(x, shape, axes, false);
}

/** Undoes `fftshift` (shift by -floor(n/2)); differs from it for odd lengths. */
export function ifftshift<A extends NumericArray>(x: A, shape: readonly number[], axes?: readonly number[]): A {
  return roll(x, shape, axes, true);
}

/** Plan-cache counters: plans are built once per (length, precision, real/complex) and shared by all threads. */
export function fftPlanCacheStats(): FftPlanCacheStats {
  return addon.fftPlanCacheStats();
}

// ============================ svd ==============================
// (owner: SVD/SVT issue)

/** Thin SVD a = u·diag(s)·vt of an m×n matrix; k = min(m, n), or options.k when truncated. */
export interface SvdResult {
  /** m×k left singular vectors, row-major (column c is the c-th vector). */
  u: Float64Array;
  /** k singular values, descending, non-negative. */
  s: Float64Array;
  /** k×n right singular vectors transposed, row-major (row c is the c-th vector). */
  vt: Float64Array;
}

/** Singular values only (options.computeUV = false). */
export interface SingularValues {
  s: Float64Array;
}

export interface SvdOptions {
  /**
   * Rank of a truncated SVD (1 ≤ k ≤ min(m, n)), computed by a randomized range finder
   * (Halko–Martinsson–Tropp) with power iterations; accurate when the spectrum decays past k.
   * When k + oversample ≥ min(m, n) / 2 the exact SVD is computed and truncated instead.
   * Omitted: the full thin SVD.
   */
  k?: number;
  /** false: singular values only (one bidiagonalisation + O(n²), ~4× faster). Default true. */
  computeUV?: boolean;
  /** Truncated SVD: extra test vectors beyond k. Default 10. */
  oversample?: number;
  /** Truncated SVD: subspace (power) iterations; each sharpens the leading subspace. Default 3. */
  powerIterations?: number;
  /** Truncated SVD: seed of the Gaussian test matrix (same seed, same result). Default 0. */
  seed?: number;
}

const SVD_OPTIONS = ['k', 'computeUV', 'oversample', 'powerIterations', 'seed'] as const;

function checkInteger(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name}: must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function checkMatrix(a: unknown, name: string, m: number, n: number, finite: boolean): Float64Array {
  if (!(a instanceof Float64Array)) throw new TypeError(`${name}: must be a Float64Array`);
  if (a.length !== m * n) throw new RangeError(`${name}: length ${a.length} does not match m*n = ${m * n}`);
  if (finite) {
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) throw new RangeError(`${name}[${i}]: must be finite, got ${a[i]}`);
    }
  }
  return a;
}

type SvdArgs = [Float64Array, number, number, number, boolean, number, number, number];

function svdArgs(a: Float64Array, m: number, n: number, options: SvdOptions | undefined): SvdArgs {
  checkShape([m, n], '[m, n]');
  checkMatrix(a, 'a', m, n, true);
  const o = checkOptions(options, SVD_OPTIONS);
  const k = o.k === undefined ? 0 : checkInteger(o.k, 'options.k', 1, Math.min(m, n));
  if (o.computeUV !== undefined && typeof o.computeUV !== 'boolean') throw new TypeError('options.computeUV: must be a boolean');
  const oversample = o.oversample === undefined ? 10 : checkInteger(o.oversample, 'options.oversample', 0, 1000);
  const power = o.powerIterations === undefined ? 3 : checkInteger(o.powerIterations, 'options.powerIterations', 0, 100);
  const seed = o.seed === undefined ? 0 : checkInteger(o.seed, 'options.seed', 0);
  return [a, m, n, k, o.computeUV !== false, oversample, power, seed];
}

/**
 * Singular value decomposition of the m×n row-major matrix `a` (not modified), on the calling
 * thread: Householder bidiagonalisation + implicit-shift Golub–Kahan QR, backward stable
 * (‖a − u·diag(s)·vt‖ ≈ 1e-15·‖a‖ whatever the condition number). Use {@link svdAsync} above
 * ~100×100 on the event loop (a 256² SVD takes tens of ms).
 * @throws TypeError/RangeError naming the bad argument (sizes, non-finite entries, options).
 */
export function svd(a: Float64Array, m: number, n: number, options: SvdOptions & { computeUV: false }): SingularValues;
export function svd(a: Float64Array, m: number, n: number, options?: SvdOptions): SvdResult;
export function svd(a: Float64Array, m: number, n: number, options?: SvdOptions): SvdResult | SingularValues {
  return addon.svd(...svdArgs(a, m, n, options));
}

/** {@link svd} on the libuv thread pool; `a` is copied first, so the caller may reuse it at once. */
export function svdAsync(a: Float64Array, m: number, n: number, options: SvdOptions & { computeUV: false }): Promise<SingularValues>;
export function svdAsync(a: Float64Array, m: number, n: number, options?: SvdOptions): Promise<SvdResult>;
export function svdAsync(a: Float64Array, m: number, n: number, options?: SvdOptions): Promise<SvdResult | SingularValues> {
  try {
    return addon.svdAsync(...svdArgs(a, m, n, options));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Raw native result: u/vt absent when computeUV is false. */
interface RawSvd {
  s: Float64Array;
  u?: Float64Array;
  vt?: Float64Array;
}

// ===================== svt + adaptive sampling =================
// (owner: SVD/SVT issue)

/** Completion methods; 'svt' is the paper's iteration (Cai, Candès & Shen 2010). */
export type CompletionMethod = 'svt' | 'softImpute' | 'hardImpute' | 'apg';
const METHODS: readonly CompletionMethod[] = ['svt', 'softImpute', 'hardImpute', 'apg'];

export interface SvtOptions {
  /**
   * 'svt' (default): X_k = D_τ(Y_{k−1}), Y_k = Y_{k−1} + δ·P_Ω(M − X_k), D_τ shrinking every
   * singular value by τ. 'softImpute' (Mazumder, Hastie & Tibshirani 2010): X ← D_τ(P_Ω(M) + P_Ω⊥(X)).
   * 'hardImpute': X ← best rank-`rank` approximation of P_Ω(M) + P_Ω⊥(X) (needs options.rank). It is
   *   non-convex: give it a good `init` (e.g. the svt result); without one it starts from the rank-r
   *   truncation of P_Ω(M)/p and may stall in a poor fixed point.
   * 'apg' (Toh & Yun 2010): accelerated proximal gradient for min ½‖P_Ω(X − M)‖² + τ‖X‖_*, with
   *   Nesterov momentum and continuation of the threshold from ‖P_Ω(M)‖₂ down to τ (default
   *   APG_TAU_FACTOR × the estimated norm, i.e. near-exact fitting of the samples); tens of
   *   iterations where svt needs hundreds. 'svt' stays the paper's iteration.
   */
  method?: CompletionMethod;
  /**
   * Singular value threshold, in the units of the data (> 0). Default: SVT_TAU_FACTOR × ‖P_Ω(M − μ)‖_F / √p
   * (the estimated Frobenius norm of the centred full map; p = sampled fraction), so the defaults
   * behave the same at any scale; softImpute: SOFT_IMPUTE_TAU_FACTOR × that norm.
   */
  tau?: number;
  /** svt step size δ (> 0). Default SVT_DELTA (in CCS's proven convergent range 0 < δ < 2; 1.2/p diverges on small maps). */
  delta?: number;
  /** Stop when ‖P_Ω(M − X)‖_F / ‖P_Ω(M − μ)‖_F ≤ tol (impute methods also stop when X changes by less than tol, relatively). 0 = run maxIter iterations. Default SVT_TOL. */
  tol?: number;
  /** Iteration cap (≥ 1). Default SVT_MAX_ITER. */
  maxIter?: number;
  /** hardImpute: the rank cap (1 ≤ rank ≤ min(m, n)). Centring adds a rank-1 term to a map with an offset: use r + 1 for a rank-r map plus a constant. */
  rank?: number;
  /**
   * Starting matrix (m×n), e.g. the DLNet output in DLMC. svt: the dual variable starts at
   * U(S + τ)Vᵀ from the SVD of init − μ, so that the first iterate is init (see initMode); the
   * impute methods start their fill-in from it. Default: none (svt then uses CCS's "kicking" start,
   * Y₀ = k₀δP_Ω(M)).
   */
  init?: Float64Array;
  /**
   * svt with init: 'lowRank' (default) keeps only init's components with singular values above
   * SVT_INIT_FLOOR·τ, so the first iterate is init's significant low-rank part and the result is
   * not pulled towards init's noise (a CNN estimate with 10–40 % error is completed to a few %
   * from 10–20 % samples where a cold start leaves 30–75 %; at 10–20 % it takes more iterations than
   * a cold start). 'exact' keeps all of init: the first iterate is init itself, the iteration stops
   * soonest, and unobserved entries keep init's errors.
   */
  initMode?: 'lowRank' | 'exact';
  /**
   * Centre by μ = the mean of the observed entries before completing (default true): low-rank
   * completion of a map with a large offset (populations near 0.5) otherwise spends its rank and its
   * threshold on the offset. Residuals are measured on the centred data.
   */
  center?: boolean;
  /** Aborts the completion between iterations; the promise then rejects with signal.reason. */
  signal?: AbortSignal;
}

export interface SvtResult {
  /** The completed m×n map (row-major), offset μ added back. */
  x: Float64Array;
  /** Iterations run (SVDs computed). */
  iterations: number;
  /** Final ‖P_Ω(M − X)‖_F / ‖P_Ω(M − μ)‖_F. */
  residual: number;
  /** Rank of the final iterate (singular values kept). */
  rank: number;
  /** The τ and δ actually used (after defaults). */
  tau: number;
  delta: number;
}

/** Default τ for svt, as a multiple of the estimated Frobenius norm of the centred map. */
export const SVT_TAU_FACTOR = 2;
/** Default τ for softImpute, as a multiple of the same norm. */
export const SOFT_IMPUTE_TAU_FACTOR = 0.01;
/** Default τ for apg (the final threshold of its continuation), as a multiple of the same norm. */
export const APG_TAU_FACTOR = 1e-4;
/** Default tolerance for apg: it converges fast, so a tighter stop buys accuracy cheaply (decision 1850). */
export const APG_TOL = 1e-4;
/** Default svt step. */
export const SVT_DELTA = 1.9;
/** Default relative residual tolerance. */
export const SVT_TOL = 1e-3;
/** Default iteration cap. */
export const SVT_MAX_ITER = 3000;
/** initMode 'lowRank': init's components below this multiple of τ are dropped. */
export const SVT_INIT_FLOOR = 0.05;

const SVT_OPTIONS = ['method', 'tau', 'delta', 'tol', 'maxIter', 'rank', 'init', 'initMode', 'center', 'signal'] as const;

function positiveNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`${name}: must be a finite number > 0, got ${String(value)}`);
  return value;
}

/**
 * Completes the partially observed m×n map `observed` (entries where mask is 0 are ignored and may
 * be NaN) by low-rank matrix completion, the whole iteration in native code on the thread pool.
 * Inputs are copied before the promise is returned. See {@link SvtOptions} for the methods and
 * data-scaled defaults.
 * @param mask m×n, nonzero = sampled.
 * @returns a promise of the completed map; it rejects with a RangeError/TypeError naming a bad
 *   argument, with signal.reason when aborted.
 */
export function svt(observed: Float64Array, mask: Uint8Array, m: number, n: number, options?: SvtOptions): Promise<SvtResult> {
  let started: { promise: Promise<RawSvt>; cancel(): void };
  let tau: number;
  let delta: number;
  const o = options ?? {};
  try {
    checkShape([m, n], '[m, n]');
    checkMatrix(observed, 'observed', m, n, false);
    if (!(mask instanceof Uint8Array)) throw new TypeError('mask: must be a Uint8Array');
    if (mask.length !== m * n) throw new RangeError(`mask: length ${mask.length} does not match m*n = ${m * n}`);
    checkOptions(options, SVT_OPTIONS);
    const method = o.method ?? 'svt';
    if (!METHODS.includes(method)) throw new RangeError(`options.method: must be one of ${METHODS.join(', ')}, got ${String(method)}`);
    if (o.center !== undefined && typeof o.center !== 'boolean') throw new TypeError('options.center: must be a boolean');
    const center = o.center ?? true;
    // Observed statistics for the data-scaled defaults (and the NaN check).
    let count = 0;
    let sum = 0;
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      const v = observed[i];
      if (!Number.isFinite(v)) throw new RangeError(`observed[${i}]: sampled entry must be finite, got ${v}`);
      count++;
      sum += v;
    }
    if (count === 0) throw new RangeError('mask: no entry is sampled');
    const mean = center ? sum / count : 0;
    let ss = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i]) ss += (observed[i] - mean) ** 2;
    const fullNorm = Math.sqrt((ss * m * n) / count) || 1; // estimated ‖M − μ‖_F; 1 if all observations equal μ
    const tauFactor = method === 'softImpute' ? SOFT_IMPUTE_TAU_FACTOR : method === 'apg' ? APG_TAU_FACTOR : SVT_TAU_FACTOR;
    tau = o.tau === undefined ? tauFactor * fullNorm : positiveNumber(o.tau, 'options.tau');
    delta = o.delta === undefined ? SVT_DELTA : positiveNumber(o.delta, 'options.delta');
    const tol = o.tol ?? (method === 'apg' ? APG_TOL : SVT_TOL);
    if (typeof tol !== 'number' || !Number.isFinite(tol) || tol < 0) throw new RangeError(`options.tol: must be a finite number >= 0, got ${String(tol)}`);
    const maxIter = o.maxIter === undefined ? SVT_MAX_ITER : checkInteger(o.maxIter, 'options.maxIter', 1, 1e7);
    let rank = 0;
    if (method === 'hardImpute') {
      if (o.rank === undefined) throw new RangeError("options.rank: required for method 'hardImpute'");
      rank = checkInteger(o.rank, 'options.rank', 1, Math.min(m, n));
    } else if (o.rank !== undefined) {
      throw new RangeError("options.rank: only used by method 'hardImpute'");
    }
    const init = o.init === undefined ? null : checkMatrix(o.init, 'options.init', m, n, true);
    const initMode = o.initMode ?? 'lowRank';
    if (initMode !== 'lowRank' && initMode !== 'exact') throw new RangeError(`options.initMode: must be 'lowRank' or 'exact', got ${String(initMode)}`);
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError('options.signal: must be an AbortSignal');
    if (o.signal?.aborted) return Promise.reject(o.signal.reason);
    started = addon.svtStart(observed, mask, m, n, METHODS.indexOf(method), tau, delta, tol, maxIter, rank, center, init, initMode === 'exact' ? 0 : SVT_INIT_FLOOR);
  } catch (err) {
    return Promise.reject(err);
  }
  const signal = o.signal;
  const onAbort = (): void => started.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  return started.promise.then(
    (raw) => {
      signal?.removeEventListener('abort', onAbort);
      if (raw.aborted) throw signal?.reason ?? new Error('svt: aborted');
      return { x: raw.x, iterations: raw.iterations, residual: raw.residual, rank: raw.rank, tau, delta };
    },
    (err: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      throw err;
    },
  );
}

interface RawSvt {
  x: Float64Array;
  iterations: number;
  residual: number;
  rank: number;
  aborted: boolean;
}

/** Adaptive sampling strategies of {@link nextSamples}. */
export type SamplingStrategy = 'uniform' | 'leverage' | 'uncertainty';
const STRATEGIES: readonly SamplingStrategy[] = ['uniform', 'leverage', 'uncertainty'];

export interface NextSamplesOptions {
  /**
   * 'uniform': uniformly random among the unsampled points (baseline).
   * 'leverage': weighted random sampling without replacement, weight of (i, j) ∝ μ_i + ν_j, the
   *   row and column leverage scores (squared row norms of U_r and V_r) of the centred `recon`'s
   *   rank-r subspace: points in rows/columns the current estimate depends on most.
   * 'uncertainty': the points of largest options.uncertainty, in decreasing order.
   */
  strategy: SamplingStrategy;
  /** m×n per-entry uncertainty (finite), required by 'uncertainty'. */
  uncertainty?: Float64Array;
  /** Minimum Euclidean distance, in grid steps, between two points of the returned batch (≥ 0). Default 0. */
  minDistance?: number;
  /** Seed of the random choices (and of tie-breaking); same inputs + seed = same output. Default 0. */
  seed?: number;
  /** 'leverage': rank r of the subspace. Default: singular values above 1 % of the largest (≤ min(m, n)/4). */
  rank?: number;
}

const SAMPLING_OPTIONS = ['strategy', 'uncertainty', 'minDistance', 'seed', 'rank'] as const;

/**
 * The next k points to measure: flat row-major indices (i·n + j) of entries not yet sampled
 * (mask 0), all distinct, in the order chosen. Synchronous (at most one SVD of `recon`).
 * @param mask m×n, nonzero = already sampled.
 * @param recon the current m×n reconstruction (required by 'leverage'; may be null otherwise).
 * @throws RangeError if fewer than k points are unsampled, or if minDistance leaves fewer than k.
 */
export function nextSamples(mask: Uint8Array, recon: Float64Array | null, m: number, n: number, k: number, options: NextSamplesOptions): Uint32Array {
  checkShape([m, n], '[m, n]');
  if (!(mask instanceof Uint8Array)) throw new TypeError('mask: must be a Uint8Array');
  if (mask.length !== m * n) throw new RangeError(`mask: length ${mask.length} does not match m*n = ${m * n}`);
  checkInteger(k, 'k', 1, m * n);
  const o = checkOptions(options, SAMPLING_OPTIONS) as Partial<NextSamplesOptions>;
  if (options === undefined) throw new TypeError('options: required (options.strategy)');
  const strategy = o.strategy;
  if (strategy === undefined || !STRATEGIES.includes(strategy)) throw new RangeError(`options.strategy: must be one of ${STRATEGIES.join(', ')}, got ${String(strategy)}`);
  if (recon !== null && recon !== undefined) checkMatrix(recon, 'recon', m, n, true);
  if (strategy === 'leverage' && (recon === null || recon === undefined)) throw new TypeError("recon: required for strategy 'leverage'");
  let uncertainty: Float64Array | null = null;
  if (o.uncertainty !== undefined) uncertainty = checkMatrix(o.uncertainty, 'options.uncertainty', m, n, true);
  if (strategy === 'uncertainty' && uncertainty === null) throw new TypeError("options.uncertainty: required for strategy 'uncertainty'");
  const minDistance = o.minDistance ?? 0;
  if (typeof minDistance !== 'number' || !Number.isFinite(minDistance) || minDistance < 0) throw new RangeError(`options.minDistance: must be a finite number >= 0, got ${String(minDistance)}`);
  const seed = o.seed === undefined ? 0 : checkInteger(o.seed, 'options.seed', 0);
  const rank = o.rank === undefined ? 0 : checkInteger(o.rank, 'options.rank', 1, Math.min(m, n));
  return addon.nextSamples(mask, recon ?? null, m, n, k, STRATEGIES.indexOf(strategy), uncertainty, minDistance, seed, rank);
}

// ============================ mrfm =====================// (owner: mrfm-multislice issue; decisions 1600–1602)
//
// Physics of the MRFM simulator and the reconstruction kernels. Lengths in
// nm, fields in T, frequencies in Hz, forces in aN. Volumes o are (nx, ny, nz)
// C-ordered in spins/nm³; measurements i are (nx, ny, nf) in aN²; the PSF is
// (nf, nx, ny, nz) float32 in aN² per spin, centred (the magnet axis at index
// (nx/2, ny/2)). The forward model is
//   i[:, :, l] = Σ_z irfft2(rfft2(ifftshift(psf[l, :, :, z])) · rfft2(o[:, :, z])) · voxelVolume,
// a circular 2D convolution per height. Long calls run on the thread pool
// (at most two threads each; QSCOPE_THREADS overrides).

/** A cylindrical nanomagnet magnetised along its axis (z); its top face is at z = 0. */
export interface MrfmMagnet {
  radiusNm: number;
  heightNm: number;
  /** μ0·M_s, T. */
  mu0MsT: number;
}

export interface MrfmDims {
  nx: number;
  ny: number;
  nz: number;
  nf: number;
}

export interface MrfmPsfJob {
  magnet: MrfmMagnet;
  /** External field along z, T. */
  b0T: number;
  /** γ/2π of the imaged nucleus, Hz/T (¹H: 42.577478e6). */
  gammaHzPerT: number;
  /** Moment μ = ħγ/2 of one spin, J/T (¹H: 1.41060679e-26). */
  muJPerT: number;
  /** cantilever: (∂Bz/∂x)²μ²; membrane: (∂Bz/∂z)²μ². */
  geometry: 'cantilever' | 'membrane';
  /** Voxel size (dx, dy, dz), nm; dz is the thickness each height averages over. */
  voxelNm: [number, number, number];
  nx: number;
  ny: number;
  /** Height of each voxel layer's centre above the magnet's top face, nm (> 0). */
  zHeightsNm: readonly number[];
  /** Pulse centre frequencies, Hz. */
  f0Hz: readonly number[];
  /** Pulse half-width: a spin inverts when |f_L − f0| ≤ fBW, Hz. */
  fBWHz: number;
  /** Sub-voxel samples per axis (≥ 1; the PSF averages s³ samples per voxel). Default 3. */
  subSamples?: number;
  /** Step of the (ρ, z) field table that is interpolated, nm. Default 0.5. */
  tableStepNm?: number;
}

interface RawPsfJob extends Record<string, unknown> {
  magnet: MrfmMagnet;
}

export interface MrfmReconResult {
  /** The estimate (non-negative), (nx, ny, nz) spins/nm³. */
  o: Float64Array;
  /** ‖W(A o_k) − i‖² over the sampled points after each iteration, aN⁴. */
  residual: Float64Array;
  /** RMSE against `truth` after each iteration (empty without truth). */
  rmse: Float64Array;
  /** Seconds since the start of the iterations, after each iteration. */
  seconds: Float64Array;
  iterations: number;
  /** First iteration whose residual reached tau·noiseEnergy (−1: never). */
  discrepancyIteration: number;
  reason: 'discrepancy' | 'converged' | 'stagnated' | 'max-iterations' | 'cancelled';
  /** PSF transforms, ‖A‖² and (ADMM) the block factorisations, s. */
  setupSeconds: number;
  /** ‖A‖₂². */
  normSquared: number;
  /** ADMM parameters used (absolute). */
  nu1: number;
  nu2: number;
  gamma: number;
}

export interface MrfmBpdnResult {
  /** The recovered measurement, (nx, ny, nf). */
  x: Float64Array;
  iterations: number;
  /** ‖W x − b‖² at the end (≤ ζ up to the solver tolerance). */
  constraint: number;
  seconds: number;
}

function checkMagnet(m: MrfmMagnet): void {
  if (m === null || typeof m !== 'object') throw new TypeError('magnet: must be an object {radiusNm, heightNm, mu0MsT}');
  for (const k of ['radiusNm', 'heightNm', 'mu0MsT'] as const) {
    if (typeof m[k] !== 'number' || !(m[k] > 0) || !Number.isFinite(m[k])) throw new RangeError(`magnet.${k}: must be a finite number > 0, got ${String(m[k])}`);
  }
}

function checkPositive(v: unknown, name: string, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new RangeError(`${name}: must be a finite number ${allowZero ? '≥' : '>'} 0, got ${String(v)}`);
  return v;
}

/** Largest voxel count (nx·ny·nz, and nx·ny·nf) the mrfm kernels take. */
export const MRFM_MAX_VOXELS = 2 ** 26;

function checkDims(d: MrfmDims): number {
  if (d === null || typeof d !== 'object') throw new TypeError('dims: must be {nx, ny, nz, nf}');
  for (const k of ['nx', 'ny', 'nz', 'nf'] as const) checkInteger(d[k], `dims.${k}`, 1, 65536);
  if (d.nx * d.ny * d.nz > MRFM_MAX_VOXELS || d.nx * d.ny * d.nf > MRFM_MAX_VOXELS) throw new RangeError(`dims: more than ${MRFM_MAX_VOXELS} voxels`);
  return d.nf * d.nx * d.ny * d.nz;
}

function checkTyped(a: unknown, ctor: Float32ArrayConstructor | Float64ArrayConstructor | Uint8ArrayConstructor, name: string, length: number): void {
  if (!(a instanceof ctor)) throw new TypeError(`${name}: must be a ${ctor.name}`);
  if (a.length !== length) throw new RangeError(`${name}: length ${a.length} does not match the dims (${length})`);
}

/**
 * Field of the cylindrical magnet (no external field) at points given in
 * cylindrical coordinates: ρ from the axis and z above the top face, nm.
 * Returns Bz and Bρ in T. Computed from the faces' magnetic surface charge
 * (rings → complete elliptic integrals, Gauss–Legendre over the ring radii).
 */
export function mrfmField(magnet: MrfmMagnet, rhoNm: Float64Array, zNm: Float64Array): { bz: Float64Array; brho: Float64Array } {
  checkMagnet(magnet);
  if (!(rhoNm instanceof Float64Array) || !(zNm instanceof Float64Array)) throw new TypeError('rhoNm, zNm: must be Float64Arrays');
  if (rhoNm.length !== zNm.length) throw new RangeError(`rhoNm, zNm: lengths differ (${rhoNm.length} vs ${zNm.length})`);
  return addon.mrfmField(magnet, rhoNm, zNm);
}

function rawPsfJob(job: MrfmPsfJob): RawPsfJob {
  if (job === null || typeof job !== 'object') throw new TypeError('job: must be an object');
  checkMagnet(job.magnet);
  if (job.geometry !== 'cantilever' && job.geometry !== 'membrane') throw new RangeError(`geometry: must be cantilever or membrane, got ${String(job.geometry)}`);
  checkPositive(job.b0T, 'b0T', true);
  checkPositive(job.gammaHzPerT, 'gammaHzPerT');
  checkPositive(job.muJPerT, 'muJPerT');
  if (!Array.isArray(job.voxelNm) || job.voxelNm.length !== 3) throw new RangeError('voxelNm: must be [dx, dy, dz]');
  job.voxelNm.forEach((v, i) => checkPositive(v, `voxelNm[${i}]`));
  checkInteger(job.nx, 'nx', 1, 65536);
  checkInteger(job.ny, 'ny', 1, 65536);
  const hs = Array.from(job.zHeightsNm ?? []);
  if (hs.length === 0) throw new RangeError('zHeightsNm: must list at least one height');
  hs.forEach((h, i) => checkPositive(h, `zHeightsNm[${i}]`));
  const f0 = Array.from(job.f0Hz ?? []);
  if (f0.length === 0) throw new RangeError('f0Hz: must list at least one pulse');
  f0.forEach((f, i) => checkPositive(f, `f0Hz[${i}]`));
  checkPositive(job.fBWHz, 'fBWHz');
  const sub = job.subSamples ?? 3;
  checkInteger(sub, 'subSamples', 1, 16);
  const step = job.tableStepNm ?? 0.5;
  checkPositive(step, 'tableStepNm');
  if (f0.length * job.nx * job.ny * hs.length > 2 ** 30) throw new RangeError('job: the PSF would hold more than 2^30 values');
  return {
    magnet: job.magnet, b0T: job.b0T, gammaHzPerT: job.gammaHzPerT, muJPerT: job.muJPerT, geometry: job.geometry === 'cantilever' ? 0 : 1,
    dxNm: job.voxelNm[0], dyNm: job.voxelNm[1], dzNm: job.voxelNm[2], nx: job.nx, ny: job.ny, subSamples: sub, zHeightsNm: hs, f0Hz: f0, fBWHz: job.fBWHz, tableStepNm: step,
  };
}

/**
 * The per-pulse PSFs H^l = (∂Bz/∂p)²μ² (aN² per spin) on the voxel grid,
 * averaged over s³ sub-voxel samples, counting the samples with
 * |f_L − f0_l| ≤ fBW where f_L = γ/2π·|B0 ẑ + B_magnet|. Shape (nf, nx, ny, nz),
 * centred. Synchronous: small grids only; use mrfmPsfAsync otherwise.
 */
export function mrfmPsf(job: MrfmPsfJob): Float32Array {
  return addon.mrfmPsf(rawPsfJob(job));
}
/** mrfmPsf on the thread pool. */
export async function mrfmPsfAsync(job: MrfmPsfJob): Promise<Float32Array> {
  return addon.mrfmPsfAsync(rawPsfJob(job));
}

function checkOperator(psf: Float32Array, dims: MrfmDims, voxelVolume: number): void {
  const n = checkDims(dims);
  checkTyped(psf, Float32Array, 'psf', n);
  checkPositive(voxelVolume, 'voxelVolume');
}

/** The forward model A o: o (nx, ny, nz) spins/nm³ → (nx, ny, nf) aN². Synchronous (small grids). */
export function mrfmForward(psf: Float32Array, dims: MrfmDims, voxelVolume: number, o: Float64Array): Float64Array {
  checkOperator(psf, dims, voxelVolume);
  checkTyped(o, Float64Array, 'o', dims.nx * dims.ny * dims.nz);
  return addon.mrfmForward(psf, dims, voxelVolume, o);
}
/** The adjoint Aᵀ i: (nx, ny, nf) → (nx, ny, nz). Synchronous (small grids). */
export function mrfmAdjoint(psf: Float32Array, dims: MrfmDims, voxelVolume: number, i: Float64Array): Float64Array {
  checkOperator(psf, dims, voxelVolume);
  checkTyped(i, Float64Array, 'i', dims.nx * dims.ny * dims.nf);
  return addon.mrfmAdjoint(psf, dims, voxelVolume, i);
}
/**
 * The ADMM o-update's linear solve, (AᵀA + ν1 I + ν2 DᵀD)⁻¹ r, through the
 * per-frequency nz×nz Cholesky factors (D: forward differences, periodic in
 * x, y; zero past the last height). Synchronous (small grids; for tests).
 */
export function mrfmSolveNormal(psf: Float32Array, dims: MrfmDims, voxelVolume: number, nu1: number, nu2: number, rhs: Float64Array): Float64Array {
  checkOperator(psf, dims, voxelVolume);
  checkPositive(nu1, 'nu1');
  checkPositive(nu2, 'nu2', true);
  checkTyped(rhs, Float64Array, 'rhs', dims.nx * dims.ny * dims.nz);
  return addon.mrfmSolveNormal(psf, dims, voxelVolume, nu1, nu2, rhs);
}

export interface MrfmReconOptions {
  method: 'admm' | 'landweber';
  /** 1 = sampled; the residual of the stopping rule counts these points only. Default: all. */
  mask?: Uint8Array;
  /** Ground truth (simulation only): the RMSE per iteration is recorded. */
  truth?: Float64Array;
  maxIter: number;
  /** Iterations before the stopping rule may stop (default 1). */
  minIter?: number;
  /** ADMM penalties ν1 (o = o₊), ν2 (o_TV = Do) and TV weight γ: absolute, or with `relative` ν in units of ‖A‖² and γ of max|Aᵀi|. */
  nu1?: number;
  nu2?: number;
  gamma?: number;
  relative?: boolean;
  /** Landweber BB step bounds (default 1e-3/‖A‖² … 1e3/‖A‖²). */
  stepMin?: number;
  stepMax?: number;
  /** Expected noise energy Σ SE² over the sampled points, aN⁴ (0: no discrepancy rule). */
  noiseEnergy?: number;
  /** Discrepancy factor τ: stop when the residual ≤ τ·noiseEnergy. Default 1. */
  tau?: number;
  /** Relative residual change below which the iteration counts as stalled. Default 1e-4. */
  stagnation?: number;
  /**
   * Stopping rule: 'discrepancy' (stop when the residual ≤ τ·noiseEnergy, or stalls; for the
   * semi-convergent Landweber) or 'converged' (stop when ‖o_k − o_{k−1}‖ ≤ tol·‖o_k‖; for ADMM,
   * whose regularised fixed point is the estimate). Default: 'converged' for admm, 'discrepancy' for landweber.
   */
  rule?: 'discrepancy' | 'converged';
  /** Relative change of the estimate for 'converged'. Default 1e-3. */
  tol?: number;
  /** false: run maxIter iterations (the discrepancy iteration is still reported). Default true. */
  stopAtDiscrepancy?: boolean;
}

const RECON_OPTIONS = ['method', 'mask', 'truth', 'maxIter', 'minIter', 'nu1', 'nu2', 'gamma', 'relative', 'rule', 'tol', 'stepMin', 'stepMax', 'noiseEnergy', 'tau', 'stagnation', 'stopAtDiscrepancy'] as const;

/**
 * Reconstructs o from a full measurement i (NaN-free) on the thread pool:
 * ADMM (Algorithm 2 with the updates of decision 1601) or projected
 * Landweber with Barzilai–Borwein steps. Aborting the signal stops it after
 * the current iteration (reason 'cancelled', the estimate so far).
 */
export function mrfmReconstruct(psf: Float32Array, dims: MrfmDims, voxelVolume: number, data: Float64Array, options: MrfmReconOptions, signal?: AbortSignal): Promise<MrfmReconResult> {
  checkOperator(psf, dims, voxelVolume);
  const M = dims.nx * dims.ny * dims.nf;
  checkTyped(data, Float64Array, 'data', M);
  for (let i = 0; i < M; i++) if (!Number.isFinite(data[i])) throw new RangeError(`data[${i}]: must be finite (fill unsampled points first, e.g. by mrfmBpdn)`);
  const o = checkOptions(options, RECON_OPTIONS) as Partial<MrfmReconOptions>;
  if (o.method !== 'admm' && o.method !== 'landweber') throw new RangeError(`options.method: must be admm or landweber, got ${String(o.method)}`);
  const maxIter = checkInteger(o.maxIter, 'options.maxIter', 1, 1_000_000);
  if (o.mask !== undefined) checkTyped(o.mask, Uint8Array, 'options.mask', M);
  if (o.truth !== undefined) checkTyped(o.truth, Float64Array, 'options.truth', dims.nx * dims.ny * dims.nz);
  if (o.method === 'admm') {
    checkPositive(o.nu1, 'options.nu1');
    checkPositive(o.nu2, 'options.nu2');
    checkPositive(o.gamma, 'options.gamma', true);
  }
  const opts: Record<string, number> = {
    method: o.method === 'admm' ? 0 : 1, maxIter, minIter: o.minIter === undefined ? 1 : checkInteger(o.minIter, 'options.minIter', 1),
    nu1: o.nu1 ?? 0, nu2: o.nu2 ?? 0, gamma: o.gamma ?? 0,
    stepMin: checkPositive(o.stepMin ?? 0, 'options.stepMin', true), stepMax: checkPositive(o.stepMax ?? 0, 'options.stepMax', true),
    noiseEnergy: checkPositive(o.noiseEnergy ?? 0, 'options.noiseEnergy', true), tau: checkPositive(o.tau ?? 1, 'options.tau'),
    stagnation: checkPositive(o.stagnation ?? 1e-4, 'options.stagnation', true), stopAtDiscrepancy: o.stopAtDiscrepancy === false ? 0 : 1,
    relative: o.relative ? 1 : 0,
    rule: (o.rule ?? (o.method === 'admm' ? 'converged' : 'discrepancy')) === 'converged' ? 1 : 0,
    tol: checkPositive(o.tol ?? 1e-3, 'options.tol'),
  };
  if (o.rule !== undefined && o.rule !== 'discrepancy' && o.rule !== 'converged') throw new RangeError(`options.rule: must be discrepancy or converged, got ${String(o.rule)}`);
  if (signal?.aborted) return Promise.reject(signal.reason);
  const h = addon.mrfmReconstructStart(psf, dims, voxelVolume, data, o.mask ?? null, o.truth ?? null, opts);
  const onAbort = () => h.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  return h.promise.finally(() => signal?.removeEventListener('abort', onAbort));
}

export interface MrfmBpdnOptions {
  /** Sparsifying transform: 'dft3' (3D DFT as in the paper) or 'dct' (2D DFT in x, y, orthonormal DCT-II along the pulse axis). */
  transform: 'dft3' | 'dct';
  /** Tolerance ζ: ‖W x − b‖² ≤ ζ (aN⁴), from the noise model. */
  zeta: number;
  /** Douglas–Rachford threshold t (> 0, aN²): sets the speed, not the solution. */
  threshold: number;
  maxIter?: number;
  /** Relative change of the iterate at which to stop. Default 1e-5. */
  tol?: number;
}

const BPDN_OPTIONS = ['transform', 'zeta', 'threshold', 'maxIter', 'tol'] as const;

/**
 * Basis-pursuit denoising, min ‖Ψx‖₁ s.t. ‖W x − b‖² ≤ ζ, of a sub-sampled
 * measurement (NaN = not sampled), by Douglas–Rachford splitting with the
 * exact data-ball projection (decision 1602). On the thread pool.
 */
export function mrfmBpdn(data: Float64Array, dims: MrfmDims, options: MrfmBpdnOptions, signal?: AbortSignal): Promise<MrfmBpdnResult> {
  checkDims(dims);
  checkTyped(data, Float64Array, 'data', dims.nx * dims.ny * dims.nf);
  const o = checkOptions(options, BPDN_OPTIONS) as Partial<MrfmBpdnOptions>;
  if (o.transform !== 'dft3' && o.transform !== 'dct') throw new RangeError(`options.transform: must be dft3 or dct, got ${String(o.transform)}`);
  let sampled = 0;
  for (const v of data) if (!Number.isNaN(v)) {
    if (!Number.isFinite(v)) throw new RangeError('data: must be finite or NaN (not sampled)');
    sampled++;
  }
  if (sampled === 0) throw new RangeError('data: no sampled point (all NaN)');
  const opts = {
    transform: o.transform === 'dft3' ? 0 : 1, zeta: checkPositive(o.zeta, 'options.zeta', true), threshold: checkPositive(o.threshold, 'options.threshold'),
    maxIter: o.maxIter === undefined ? 300 : checkInteger(o.maxIter, 'options.maxIter', 1, 1_000_000), tol: checkPositive(o.tol ?? 1e-5, 'options.tol'),
  };
  if (signal?.aborted) return Promise.reject(signal.reason);
  const h = addon.mrfmBpdnStart(data, dims, opts);
  const onAbort = () => h.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  return h.promise.finally(() => signal?.removeEventListener('abort', onAbort));
}

// ===================== spins: lattice Hamiltonians + annealer =================
// Native side: native/spins.cc. Decision: docs/decisions/1500-spin-hamiltonians.md.

/**
 * A spin Hamiltonian on a periodic n×n square lattice (site (row, col), x = col,
 * y = row; arrays [n][n][3] with (Sx, Sy, Sz) innermost; energies in units of J).
 *
 * - Type 1 (labyrinths): E = −J Σ_<ij> S_i·S_j + Σ_<ij> D_ij·(S_i × S_j), D_ij = D (ẑ × r̂_ij),
 *   nearest-neighbour bonds counted once. Ground state: Néel cycloids of period 2π/atan(D/J) sites.
 * - Type 2 (domains): E = −J Σ_<ij> S_i·S_j + D Σ_{i<j} [S_i·S_j − a(S_i·r̂)(S_j·r̂)]/r³ − K Σ_i S_iz²,
 *   the dipolar sum over every pair and its periodic images up to `images` lattice periods away in each
 *   direction (the 1/r³ sum converges absolutely; 8 images at n = 128 leave < 0.1 % of the field).
 */
export interface SpinModel {
  type: 1 | 2;
  /** Lattice side (even, 2…4096). */
  n: number;
  /** Exchange J (default 1). */
  J?: number;
  /** Type 1: DMI strength |D_ij| (default 0.3). Type 2: dipolar strength D (default 0.03). */
  D?: number;
  /** Type 2: easy-axis anisotropy K (default 0.215). */
  K?: number;
  /** Type 2: periodic images per direction on each side for the dipolar kernel (default ⌈1024/n⌉). */
  images?: number;
  /**
   * Type 2: a in D [S_i·S_j − a (S_i·r̂)(S_j·r̂)]/r³. Default 1, the paper's printed formula (thin walls at its
   * parameters); 3 is the textbook dipole, which puts K = 0.215 within 0.012 of the reorientation (decision 1500).
   */
  dipoleFactor?: number;
}

/** The paper's parameters (issue 15). */
export const SPIN_DEFAULTS = Object.freeze({ 1: { J: 1, D: 0.3, K: 0 }, 2: { J: 1, D: 0.03, K: 0.215 } });

export interface AnnealSchedule {
  /** Start temperature (above the ordering temperature; default 1.5 J). */
  t0?: number;
  /** End temperature of the geometric schedule (default 0.01 J). */
  t1?: number;
  /** Metropolis sweeps from t0 to t1 (default 1000). */
  sweeps?: number;
  /** Zero-temperature alignment sweeps after the schedule (default 50). */
  alignSweeps?: number;
  /** Seed (non-negative integer); same model + schedule + seed + init = same bits. */
  seed?: number;
  /** Aborting cancels the run between sweeps; the promise rejects with signal.reason. */
  signal?: AbortSignal;
}

export interface AnnealResult {
  /** Unit spins [n][n][3]. */
  spins: Float64Array;
  /** Energy of the final state (E above). */
  energy: number;
  /** Acceptance rate of the last Metropolis sweep. */
  acceptance: number;
  /** Proposal width σ at the end (adapted towards 50 % acceptance). */
  sigma: number;
  sweepsDone: number;
}

interface RawSpinModel {
  type: number;
  n: number;
  J: number;
  D: number;
  K: number;
  images: number;
  dipoleFactor: number;
}
interface RawAnneal extends AnnealResult {
  aborted: boolean;
}

const SPIN_MODEL_KEYS = ['type', 'n', 'J', 'D', 'K', 'images', 'dipoleFactor'] as const;
const ANNEAL_KEYS = ['t0', 't1', 'sweeps', 'alignSweeps', 'seed', 'signal'] as const;

function finiteNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${name}: must be a finite number, got ${String(value)}`);
  return value;
}

function checkSpinModel(model: SpinModel): RawSpinModel {
  const o = checkOptions(model, SPIN_MODEL_KEYS) as Partial<SpinModel>;
  if (model === undefined) throw new TypeError('model: required');
  if (o.type !== 1 && o.type !== 2) throw new RangeError(`model.type: must be 1 or 2, got ${String(o.type)}`);
  const n = checkInteger(o.n, 'model.n', 2, 4096);
  if (n % 2 !== 0) throw new RangeError(`model.n: must be even (checkerboard updates), got ${n}`);
  const d = SPIN_DEFAULTS[o.type];
  const J = o.J === undefined ? d.J : finiteNumber(o.J, 'model.J');
  const D = o.D === undefined ? d.D : finiteNumber(o.D, 'model.D');
  const K = o.K === undefined ? d.K : finiteNumber(o.K, 'model.K');
  if (o.type === 1 && o.K !== undefined && o.K !== 0) throw new RangeError('model.K: type 1 has no anisotropy term');
  if (o.type === 1 && o.images !== undefined) throw new RangeError('model.images: type 1 has no dipolar term');
  if (o.type === 1 && o.dipoleFactor !== undefined) throw new RangeError('model.dipoleFactor: type 1 has no dipolar term');
  const images = o.images === undefined ? Math.ceil(1024 / n) : checkInteger(o.images, 'model.images', 0, 1024);
  const dipoleFactor = o.dipoleFactor === undefined ? 1 : finiteNumber(o.dipoleFactor, 'model.dipoleFactor');
  return { type: o.type, n, J, D, K, images, dipoleFactor };
}

function checkSpins(spins: unknown, n: number, name: string): Float64Array {
  if (!(spins instanceof Float64Array)) throw new TypeError(`${name}: must be a Float64Array`);
  if (spins.length !== n * n * 3) throw new RangeError(`${name}: length ${spins.length} does not match n·n·3 = ${n * n * 3}`);
  for (let i = 0; i < spins.length; i++) if (!Number.isFinite(spins[i])) throw new RangeError(`${name}[${i}]: must be finite, got ${spins[i]}`);
  return spins;
}

/** Local field h_i = −∂E/∂S_i at every site ([n][n][3]), anisotropy included (S_i unconstrained). Synchronous. */
export function spinField(model: SpinModel, spins: Float64Array): Float64Array {
  const m = checkSpinModel(model);
  return addon.spinsField(m, checkSpins(spins, m.n, 'spins'));
}

/** Total energy E of a spin configuration (see {@link SpinModel}). Synchronous. */
export function spinEnergy(model: SpinModel, spins: Float64Array): number {
  const m = checkSpinModel(model);
  return addon.spinsEnergy(m, checkSpins(spins, m.n, 'spins'));
}

/**
 * Simulated annealing on the libuv thread pool: from `init` (or random unit spins drawn from the
 * seed), checkerboard Metropolis sweeps along a geometric schedule t0 → t1 with an adaptive
 * proposal width, then zero-temperature alignment sweeps. Bit-reproducible for a seed.
 * Inputs are copied before the promise is returned; rejects with a RangeError/TypeError naming a
 * bad argument, with signal.reason when aborted.
 */
export function annealSpins(model: SpinModel, schedule: AnnealSchedule = {}, init?: Float64Array): Promise<AnnealResult> {
  let started: { promise: Promise<RawAnneal>; cancel(): void };
  const signal = schedule?.signal;
  try {
    const m = checkSpinModel(model);
    const o = checkOptions(schedule, ANNEAL_KEYS) as AnnealSchedule;
    const t0 = o.t0 === undefined ? 1.5 : positiveNumber(o.t0, 'schedule.t0');
    const t1 = o.t1 === undefined ? 0.01 : positiveNumber(o.t1, 'schedule.t1');
    const sweeps = o.sweeps === undefined ? 1000 : checkInteger(o.sweeps, 'schedule.sweeps', 0, 1e7);
    const alignSweeps = o.alignSweeps === undefined ? 50 : checkInteger(o.alignSweeps, 'schedule.alignSweeps', 0, 1e7);
    const seed = o.seed === undefined ? 0 : checkInteger(o.seed, 'schedule.seed', 0);
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('schedule.signal: must be an AbortSignal');
    if (signal?.aborted) return Promise.reject(signal.reason);
    const start = init === undefined ? null : checkSpins(init, m.n, 'init');
    started = addon.spinsAnnealStart(m, { t0, t1, sweeps, alignSweeps, seed }, start);
  } catch (err) {
    return Promise.reject(err);
  }
  const onAbort = (): void => started.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  return started.promise.then(
    (raw) => {
      signal?.removeEventListener('abort', onAbort);
      if (raw.aborted) throw signal?.reason ?? new Error('annealSpins: aborted');
      return { spins: raw.spins, energy: raw.energy, acceptance: raw.acceptance, sigma: raw.sigma, sweepsDone: raw.sweepsDone };
    },
    (err: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      throw err;
    },
  );
}

void addon;
