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

const FFT_OPTIONS = new Set(['axes', 'inverse', 'inPlace']);
const RFFT_OPTIONS = new Set(['axes']);

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

function checkOptions(options: object | undefined, allowed: Set<string>): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') throw new TypeError(`options: must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) throw new TypeError(`options.${key}: unknown option (allowed: ${[...allowed].join(', ')})`);
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
  const out: ComplexArray<A> = options?.inPlace ? { re, im } : { re: alloc(re, n), im: alloc(re, n) };
  return { axes, out, inverse: options?.inverse ?? false };
}

function prepareRfft<A extends FloatArray>(x: A, shape: readonly number[], options: RfftOptions | undefined) {
  checkFloatArray(x, 'x');
  const n = checkShape(shape);
  checkLength(x, n, 'x', shape);
  checkOptions(options, RFFT_OPTIONS);
  const axes = normaliseAxes(options?.axes, shape.length);
  const h = checkShape(halvedShape(shape, axes));
  return { axes, out: { re: alloc(x, h), im: alloc(x, h) } as ComplexArray<A> };
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
 * @returns new arrays of the same type and shape (or `re`/`im` with `inPlace`)
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
 * @returns `{re, im}` of the halved shape, same element type as `x`
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

// ===================== svt + adaptive sampling =================
// (owner: SVD/SVT issue)

void addon;
