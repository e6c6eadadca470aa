import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  fft,
  fftAsync,
  fftPlanCacheStats,
  fftshift,
  ifftshift,
  irfft,
  irfftAsync,
  rfft,
  rfftAsync,
  type ComplexArray,
  type FloatArray,
} from '../../native/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---- helpers ----

/** Deterministic uniform values in [-0.5, 0.5). */
function random(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** Direct O(n^2) DFT in float64 with exactly reduced angles. */
function dft(re: ArrayLike<number>, im: ArrayLike<number>, inverse = false): ComplexArray<Float64Array> {
  const n = re.length;
  const R = new Float64Array(n);
  const I = new Float64Array(n);
  const sign = inverse ? 2 : -2;
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const a = (sign * Math.PI * ((j * k) % n)) / n;
      const c = Math.cos(a);
      const s = Math.sin(a);
      sr += re[j] * c - im[j] * s;
      si += re[j] * s + im[j] * c;
    }
    R[k] = inverse ? sr / n : sr;
    I[k] = inverse ? si / n : si;
  }
  return { re: R, im: I };
}

/** ||x - ref|| / ||ref|| over both parts. */
function relErr(x: { re: ArrayLike<number>; im: ArrayLike<number> }, ref: { re: ArrayLike<number>; im: ArrayLike<number> }): number {
  let e = 0;
  let r = 0;
  for (let i = 0; i < ref.re.length; i++) {
    e += (x.re[i] - ref.re[i]) ** 2 + (x.im[i] - ref.im[i]) ** 2;
    r += ref.re[i] ** 2 + ref.im[i] ** 2;
  }
  return Math.sqrt(e / (r || 1));
}

function realErr(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  return relErr({ re: x, im: new Float64Array(x.length) }, { re: ref, im: new Float64Array(ref.length) });
}

/** Line `l` of an array [outer][n][inner] along its middle axis. */
function line(a: ArrayLike<number>, outer: number, n: number, inner: number, l: number): Float64Array {
  const o = Math.floor(l / inner);
  const i = l % inner;
  return Float64Array.from({ length: n }, (_, j) => a[(o * n + j) * inner + i]);
}

/** Reference transform along one axis, built from 1D DFTs. */
function dftAxis(x: ComplexArray, shape: number[], axis: number, inverse = false): ComplexArray<Float64Array> {
  const n = shape[axis];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const re = new Float64Array(x.re.length);
  const im = new Float64Array(x.re.length);
  for (let l = 0; l < outer * inner; l++) {
    const X = dft(line(x.re, outer, n, inner, l), line(x.im, outer, n, inner, l), inverse);
    const o = Math.floor(l / inner);
    const i = l % inner;
    for (let j = 0; j < n; j++) {
      re[(o * n + j) * inner + i] = X.re[j];
      im[(o * n + j) * inner + i] = X.im[j];
    }
  }
  return { re, im };
}

const lengths1to64 = Array.from({ length: 64 }, (_, i) => i + 1);
// primes (generic radix up to 61, Bluestein above), composites, powers of two
const mixedLengths = [97, 127, 210, 215, 256, 300, 343, 1000, 1009, 2048, 2752];

// ---- tests ----

describe('fft: complex 1D against a direct DFT', () => {
  it('every length 1..64 in float64 to < 1e-12', () => {
    for (const n of lengths1to64) {
      const re = random(n, n);
      const im = random(n, n + 1000);
      expect(relErr(fft(re, im, [n]), dft(re, im)), `n=${n}`).toBeLessThan(1e-12);
    }
  });

  it('every length 1..64 in float32 to < 1e-5', () => {
    for (const n of lengths1to64) {
      const re = Float32Array.from(random(n, n));
      const im = Float32Array.from(random(n, n + 1000));
      const X = fft(re, im, [n]);
      expect(X.re).toBeInstanceOf(Float32Array);
      expect(X.im).toBeInstanceOf(Float32Array);
      expect(relErr(X, dft(re, im)), `n=${n}`).toBeLessThan(1e-5);
    }
  });

  it('prime, composite and power-of-two lengths up to 2752 (Bluestein included), both precisions', () => {
    for (const n of mixedLengths) {
      const re = random(n, 7 * n);
      const im = random(n, 7 * n + 1);
      const ref = dft(re, im);
      expect(relErr(fft(re, im, [n]), ref), `f64 n=${n}`).toBeLessThan(1e-12);
      expect(relErr(fft(Float32Array.from(re), Float32Array.from(im), [n]), ref), `f32 n=${n}`).toBeLessThan(2e-5);
    }
  });

  it('long vectors (column-blocked four-step) agree with a radix-2 split into two half-length transforms', () => {
    for (const n of [65536, 3 * 65536]) {
      for (const Arr of [Float64Array, Float32Array]) {
        const re = Arr.from(random(n, 11));
        const im = Arr.from(random(n, 12));
        const X = fft(re, im, [n]);
        const h = n / 2;
        const half = (o: number) => fft(Float64Array.from({ length: h }, (_, j) => re[2 * j + o]), Float64Array.from({ length: h }, (_, j) => im[2 * j + o]), [h]);
        const ev = half(0);
        const od = half(1);
        const ref = { re: new Float64Array(n), im: new Float64Array(n) };
        for (let k = 0; k < n; k++) {
          const a = (-2 * Math.PI * k) / n;
          const c = Math.cos(a);
          const s = Math.sin(a);
          const kk = k % h;
          ref.re[k] = ev.re[kk] + c * od.re[kk] - s * od.im[kk];
          ref.im[k] = ev.im[kk] + c * od.im[kk] + s * od.re[kk];
        }
        expect(relErr(X, ref), `${Arr.name} n=${n}`).toBeLessThan(Arr === Float64Array ? 1e-13 : 1e-6);
        // the blocked path reads its input and writes its output separately: in place and inverse too
        const back = fft(X.re, X.im, [n], { inverse: true });
        expect(relErr(back, { re, im }), `${Arr.name} n=${n} inverse`).toBeLessThan(Arr === Float64Array ? 1e-13 : 1e-6);
        const same = fft(Arr.from(re), Arr.from(im), [n], { inPlace: true });
        expect(Array.from(same.re), `${Arr.name} n=${n} in place`).toEqual(Array.from(X.re));
        expect(Array.from(same.im), `${Arr.name} n=${n} in place`).toEqual(Array.from(X.im));
      }
    }
  });

  it('the inverse is the DFT with e^{+i...} scaled by 1/n', () => {
    for (const n of [1, 2, 3, 16, 45, 61, 67, 128, 215]) {
      const re = random(n, n);
      const im = random(n, 2 * n);
      expect(relErr(fft(re, im, [n], { inverse: true }), dft(re, im, true)), `n=${n}`).toBeLessThan(1e-12);
    }
  });

  it('portable (non-AVX2) kernels give bit-identical answers to the default ones', () => {
    // The kernel build is chosen once per process: run the portable one in a child.
    const lengths = [...lengths1to64, ...mixedLengths, 4096];
    // 2D and batched: row tiles, column blocks (both precisions)
    const shapes = [[20, 10], [37, 24], [64, 64], [3, 50, 64], [256, 256]];
    const script = `
      const { createRequire } = require('node:module');
      const addon = require(${JSON.stringify(join(root, 'build', 'Release', 'qscope_native.node'))});
      const out = {};
      for (const n of ${JSON.stringify(lengths)}) {
        const re = new Float64Array(n).map((_, i) => Math.sin(i * 1.7 + n));
        const im = new Float64Array(n).map((_, i) => Math.cos(i * 0.3 - n));
        const oR = new Float64Array(n), oI = new Float64Array(n);
        addon.fftC2C(re, im, oR, oI, [n], [0], false);
        out[n] = [Array.from(oR), Array.from(oI)];
      }
      for (const shape of ${JSON.stringify(shapes)}) {
        const n = shape.reduce((a, b) => a * b, 1);
        for (const Arr of [Float64Array, Float32Array]) {
          const re = Arr.from({ length: n }, (_, i) => Math.sin(i * 0.7 + 1));
          const im = Arr.from({ length: n }, (_, i) => Math.cos(i * 0.9 - 2));
          const oR = new Arr(n), oI = new Arr(n);
          addon.fftC2C(re, im, oR, oI, shape, shape.map((_, i) => i), false);
          out[shape.join('x') + Arr.name] = [Array.from(oR), Array.from(oI)];
        }
      }
      console.log(JSON.stringify({ isa: addon.fftPlanCacheStats().isa, out }));`;
    const child = JSON.parse(
      execFileSync(process.execPath, ['-e', script], { env: { ...process.env, QSCOPE_FFT_ISA: 'generic' }, encoding: 'utf8', maxBuffer: 1 << 28 }),
    ) as { isa: string; out: Record<string, [number[], number[]]> };
    expect(child.isa).toBe('generic');
    for (const n of lengths) {
      const re = new Float64Array(n).map((_, i) => Math.sin(i * 1.7 + n));
      const im = new Float64Array(n).map((_, i) => Math.cos(i * 0.3 - n));
      const [cr, ci] = child.out[n];
      // same operation order, no implicit FMA (-ffp-contract=off): bit-identical
      const X = fft(re, im, [n]);
      expect(Array.from(X.re), `n=${n}`).toEqual(cr);
      expect(Array.from(X.im), `n=${n}`).toEqual(ci);
    }
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      for (const Arr of [Float64Array, Float32Array]) {
        const re = Arr.from({ length: n }, (_, i) => Math.sin(i * 0.7 + 1));
        const im = Arr.from({ length: n }, (_, i) => Math.cos(i * 0.9 - 2));
        const [cr, ci] = child.out[shape.join('x') + Arr.name];
        const X = fft(re, im, shape);
        expect(Array.from(X.re), `shape=${shape} ${Arr.name}`).toEqual(cr);
        expect(Array.from(X.im), `shape=${shape} ${Arr.name}`).toEqual(ci);
      }
    }
  });
});

describe('fft: identities', () => {
  const sizes = [1, 2, 5, 12, 31, 64, 97, 210, 1000, 1009, 4096];

  it('inverse(forward(x)) = x in both precisions', () => {
    for (const n of sizes) {
      const re = random(n, n);
      const im = random(n, n + 5);
      const X = fft(re, im, [n]);
      expect(relErr(fft(X.re, X.im, [n], { inverse: true }), { re, im }), `f64 n=${n}`).toBeLessThan(1e-13);
      const r32 = Float32Array.from(re);
      const i32 = Float32Array.from(im);
      const Y = fft(r32, i32, [n]);
      expect(relErr(fft(Y.re, Y.im, [n], { inverse: true }), { re: r32, im: i32 }), `f32 n=${n}`).toBeLessThan(1e-5);
    }
  });

  it('Parseval: sum |x|^2 = sum |X|^2 / n', () => {
    for (const n of sizes) {
      const re = random(n, 3 * n);
      const im = random(n, 3 * n + 1);
      const X = fft(re, im, [n]);
      let ex = 0;
      let eX = 0;
      for (let i = 0; i < n; i++) {
        ex += re[i] ** 2 + im[i] ** 2;
        eX += X.re[i] ** 2 + X.im[i] ** 2;
      }
      expect(Math.abs(eX / n - ex) / ex, `n=${n}`).toBeLessThan(1e-12);
    }
  });

  it('linearity: F(a x + b y) = a F(x) + b F(y)', () => {
    const a = 1.7;
    const b = -0.3;
    for (const n of sizes) {
      const [xr, xi, yr, yi] = [1, 2, 3, 4].map((s) => random(n, s * n));
      const F = (re: Float64Array, im: Float64Array) => fft(re, im, [n]);
      const lhs = F(xr.map((v, i) => a * v + b * yr[i]), xi.map((v, i) => a * v + b * yi[i]));
      const Fx = F(xr, xi);
      const Fy = F(yr, yi);
      const rhs = { re: Fx.re.map((v, i) => a * v + b * Fy.re[i]), im: Fx.im.map((v, i) => a * v + b * Fy.im[i]) };
      expect(relErr(lhs, rhs), `n=${n}`).toBeLessThan(1e-13);
    }
  });

  it('never modifies its inputs; inPlace writes into them and returns them', () => {
    const re = random(300, 1);
    const im = random(300, 2);
    const r0 = re.slice();
    const i0 = im.slice();
    const X = fft(re, im, [300]);
    rfft(re, [300]);
    irfft(X.re.subarray(0, 151), X.im.subarray(0, 151), [300]);
    expect(re).toEqual(r0);
    expect(im).toEqual(i0);
    const Y = fft(re, im, [300], { inPlace: true });
    expect(Y.re).toBe(re);
    expect(Y.im).toBe(im);
    expect(relErr(Y, X)).toBe(0);
  });

  it('returns re and im as two non-overlapping views of one buffer, im not at the same offset in a 4 KB page', () => {
    for (const Arr of [Float64Array, Float32Array]) {
      const n = 4096;
      for (const out of [fft(Arr.from(random(n, 1)), Arr.from(random(n, 2)), [n]), rfft(Arr.from(random(n, 3)), [n])]) {
        expect(out.re.buffer).toBe(out.im.buffer);
        expect(out.im.byteOffset).toBeGreaterThanOrEqual(out.re.byteOffset + out.re.byteLength);
        expect((out.im.byteOffset - out.re.byteOffset) % 4096).not.toBe(0);
        expect(out.im.byteOffset + out.im.byteLength).toBeLessThanOrEqual(out.re.buffer.byteLength);
      }
    }
  });

  it('builds a plan once per length and precision (the cache serves repeats)', () => {
    const re = random(720, 1);
    const im = random(720, 2);
    fft(re, im, [720]);
    const before = fftPlanCacheStats();
    for (let i = 0; i < 5; i++) fft(re, im, [720]);
    const after = fftPlanCacheStats();
    expect(after.misses).toBe(before.misses);
    expect(after.hits).toBeGreaterThan(before.hits);
  });
});

describe('rfft / irfft', () => {
  it('rfft equals the first n/2+1 terms of the complex transform, and X[n-k] = conj X[k]', () => {
    for (const n of [1, 2, 3, 4, 7, 8, 50, 63, 64, 97, 215, 1000, 1009]) {
      const x = random(n, n);
      const full = fft(x, new Float64Array(n), [n]);
      for (let k = 1; k < n; k++) {
        expect(Math.abs(full.re[n - k] - full.re[k]), `n=${n} k=${k}`).toBeLessThan(1e-12 * n);
        expect(Math.abs(full.im[n - k] + full.im[k]), `n=${n} k=${k}`).toBeLessThan(1e-12 * n);
      }
      const h = Math.floor(n / 2) + 1;
      const R = rfft(x, [n]);
      expect(R.re.length).toBe(h);
      const ref = dft(x, new Float64Array(n));
      expect(relErr(R, { re: ref.re.subarray(0, h), im: ref.im.subarray(0, h) }), `n=${n}`).toBeLessThan(1e-12);
      expect(realErr(irfft(R.re, R.im, [n]), x), `n=${n}`).toBeLessThan(1e-13);
    }
  });

  it('float32 in, float32 out, within 1e-5', () => {
    for (const n of [6, 17, 64, 100]) {
      const x = Float32Array.from(random(n, n));
      const R = rfft(x, [n]);
      expect(R.re).toBeInstanceOf(Float32Array);
      const h = Math.floor(n / 2) + 1;
      const ref = dft(x, new Float64Array(n));
      expect(relErr(R, { re: ref.re.subarray(0, h), im: ref.im.subarray(0, h) })).toBeLessThan(1e-5);
      const back = irfft(R.re, R.im, [n]);
      expect(back).toBeInstanceOf(Float32Array);
      expect(realErr(back, x)).toBeLessThan(1e-5);
    }
  });

  it('N-D: the last transformed axis is halved, the others are full complex transforms', () => {
    for (const [shape, axes] of [
      [[50, 50], undefined],
      [[6, 9], undefined],
      [[7, 5], undefined],
      [[4, 10, 7], [-2, -1]],
      [[5, 6, 3], [0, 1]],
      [[3, 4, 5], [0, 2]],
    ] as [number[], number[] | undefined][]) {
      const total = shape.reduce((a, b) => a * b, 1);
      const x = random(total, total);
      const ax = (axes ?? shape.map((_, i) => i)).map((a) => (a < 0 ? a + shape.length : a)).sort((a, b) => a - b);
      let ref: ComplexArray = { re: x, im: new Float64Array(total) };
      for (const a of ax) ref = dftAxis(ref, shape, a);
      const R = rfft(x, shape, axes ? { axes } : undefined);
      // compare with the complex reference on the kept half of the last axis
      const last = ax[ax.length - 1];
      const hs = shape.slice();
      hs[last] = Math.floor(shape[last] / 2) + 1;
      const keptRe = new Float64Array(R.re.length);
      const keptIm = new Float64Array(R.re.length);
      const inner = shape.slice(last + 1).reduce((a, b) => a * b, 1);
      for (let i = 0; i < R.re.length; i++) {
        const t = Math.floor(i / inner) % hs[last];
        const o = Math.floor(i / inner / hs[last]);
        const src = (o * shape[last] + t) * inner + (i % inner);
        keptRe[i] = ref.re[src];
        keptIm[i] = ref.im[src];
      }
      expect(relErr(R, { re: keptRe, im: keptIm }), `shape=${shape} axes=${axes}`).toBeLessThan(1e-12);
      expect(realErr(irfft(R.re, R.im, shape, axes ? { axes } : undefined), x), `shape=${shape}`).toBeLessThan(1e-13);
    }
  });

  it('irfft ignores the imaginary parts of the zero and Nyquist terms', () => {
    const x = random(8, 3);
    const R = rfft(x, [8]);
    R.im[0] = 5;
    R.im[4] = -2;
    expect(realErr(irfft(R.re, R.im, [8]), x)).toBeLessThan(1e-14);
  });
});

describe('multi-dimensional and batched', () => {
  const shapes2d = [
    [7, 13], // primes
    [43, 5], // generic radix 43
    [50, 50], // the cosy-2d grid
    [64, 64], // power of two
    [12, 1], // degenerate axis
    [67, 24], // Bluestein rows
    [20, 10], // row blocks of 8 and 4 moved as 4x4 tiles, rows of 10 leave a tail of 2
    [37, 24], // a last row block of 5 (element by element), column blocks of 16 and 8
    [16, 256], // power of two, radix 8, 8, 4 along the rows
  ];

  it('2D = 1D along the rows, then 1D along the columns (forward and inverse)', () => {
    for (const shape of shapes2d) {
      const n = shape[0] * shape[1];
      const x = { re: random(n, n), im: random(n, n + 9) };
      const ref = dftAxis(dftAxis(x, shape, 1), shape, 0);
      expect(relErr(fft(x.re, x.im, shape), ref), `shape=${shape}`).toBeLessThan(1e-12);
      const rows = fft(x.re, x.im, shape, { axes: [1] });
      const rowsThenCols = fft(rows.re, rows.im, shape, { axes: [0] });
      expect(relErr(rowsThenCols, ref), `shape=${shape}`).toBeLessThan(1e-12);
      const back = fft(ref.re, ref.im, shape, { inverse: true });
      expect(relErr(back, x), `shape=${shape}`).toBeLessThan(1e-12);
    }
  });

  it('1D along a chosen axis of a 3D array', () => {
    const shape = [3, 10, 7];
    const n = 210;
    const x = { re: random(n, 1), im: random(n, 2) };
    for (const axis of [0, 1, 2]) {
      expect(relErr(fft(x.re, x.im, shape, { axes: [axis] }), dftAxis(x, shape, axis)), `axis=${axis}`).toBeLessThan(1e-12);
      expect(relErr(fft(x.re, x.im, shape, { axes: [axis - 3] }), dftAxis(x, shape, axis)), `axis=${axis - 3}`).toBeLessThan(1e-12);
    }
  });

  it('batched 2D over the last two axes = each slice transformed alone', () => {
    for (const shape of [[4, 16, 16], [3, 50, 50], [5, 9, 11], [2, 3, 5, 6]]) {
      const total = shape.reduce((a, b) => a * b, 1);
      const slice = shape[shape.length - 2] * shape[shape.length - 1];
      const ss = shape.slice(-2);
      for (const Arr of [Float64Array, Float32Array]) {
        const re = Arr.from(random(total, 5));
        const im = Arr.from(random(total, 6));
        const X = fft(re, im, shape, { axes: [-2, -1] });
        const tol = Arr === Float64Array ? 1e-13 : 1e-5;
        for (let s = 0; s < total / slice; s++) {
          const part = (a: FloatArray) => a.subarray(s * slice, (s + 1) * slice);
          const one = fft(part(re), part(im), ss);
          expect(relErr({ re: part(X.re), im: part(X.im) }, one), `shape=${shape} slice ${s}`).toBeLessThan(tol);
        }
      }
    }
  });

  it('default axes are all axes (a full 3D transform)', () => {
    const shape = [4, 6, 5];
    const x = { re: random(120, 3), im: random(120, 4) };
    const ref = dftAxis(dftAxis(dftAxis(x, shape, 2), shape, 1), shape, 0);
    expect(relErr(fft(x.re, x.im, shape), ref)).toBeLessThan(1e-12);
  });
});

describe('fftshift / ifftshift', () => {
  it('centres zero frequency like numpy, for even and odd lengths', () => {
    expect(Array.from(fftshift(Int32Array.from([0, 1, 2, 3, 4]), [5]))).toEqual([3, 4, 0, 1, 2]);
    expect(Array.from(fftshift(Int32Array.from([0, 1, 2, 3]), [4]))).toEqual([2, 3, 0, 1]);
    expect(Array.from(ifftshift(Int32Array.from([3, 4, 0, 1, 2]), [5]))).toEqual([0, 1, 2, 3, 4]);
    // 2D [2,3]: rows swapped, columns rolled by 1
    expect(Array.from(fftshift(Float64Array.from([0, 1, 2, 3, 4, 5]), [2, 3]))).toEqual([5, 3, 4, 2, 0, 1]);
    // only the last axis
    expect(Array.from(fftshift(Float64Array.from([0, 1, 2, 3, 4, 5]), [2, 3], [-1]))).toEqual([2, 0, 1, 5, 3, 4]);
  });

  it('ifftshift undoes fftshift on every axis subset and keeps the element type', () => {
    const shape = [3, 4, 5];
    const x = Float32Array.from({ length: 60 }, (_, i) => i);
    for (const axes of [undefined, [0], [1], [2], [0, 2], [-1, -2]]) {
      const s = fftshift(x, shape, axes);
      expect(s).toBeInstanceOf(Float32Array);
      expect(Array.from(ifftshift(s, shape, axes))).toEqual(Array.from(x));
    }
  });

  it('moves the DC term of a 50x50 spectrum to the centre', () => {
    const shape = [50, 50];
    const ones = new Float64Array(2500).fill(1);
    const X = fft(ones, new Float64Array(2500), shape);
    const c = fftshift(X.re, shape);
    expect(c[25 * 50 + 25]).toBeCloseTo(2500, 9);
    expect(Math.abs(c[0])).toBeLessThan(1e-9);
  });
});

describe('async forms', () => {
  it('give the same results as the synchronous forms', async () => {
    const shape = [3, 50, 64];
    const total = 9600;
    const re = random(total, 1);
    const im = random(total, 2);
    const a = await fftAsync(re, im, shape, { axes: [-2, -1] });
    expect(relErr(a, fft(re, im, shape, { axes: [-2, -1] }))).toBe(0);
    const inv = await fftAsync(a.re, a.im, shape, { axes: [-2, -1], inverse: true });
    expect(relErr(inv, { re, im })).toBeLessThan(1e-13);
    const r = await rfftAsync(Float32Array.from(re), shape);
    expect(r.re).toBeInstanceOf(Float32Array);
    expect(relErr(r, rfft(Float32Array.from(re), shape))).toBe(0);
    const back = await irfftAsync(r.re, r.im, shape);
    expect(realErr(back, re)).toBeLessThan(1e-5);
  });

  it('a 1024x1024 transform does not block the event loop (timers keep firing)', async () => {
    const shape = [1024, 1024];
    const n = 1024 * 1024;
    const re = random(n, 1);
    const im = random(n, 2);
    const probe = [re[12345], im[54321]];
    let immediates = 0;
    let timeouts = 0;
    let done = false;
    const spinImmediate = () => {
      immediates++;
      if (!done) setImmediate(spinImmediate);
    };
    const spinTimeout = () => {
      timeouts++;
      if (!done) setTimeout(spinTimeout, 0);
    };
    setImmediate(spinImmediate);
    setTimeout(spinTimeout, 0);
    const X = await fftAsync(re, im, shape);
    done = true;
    // A blocking implementation would finish before any tick ran.
    expect(immediates).toBeGreaterThan(20);
    expect(timeouts).toBeGreaterThan(2);
    expect([re[12345], im[54321]]).toEqual(probe);
    // spot-check: the DC term is the sum of all samples
    let sr = 0;
    for (let i = 0; i < n; i++) sr += re[i];
    expect(Math.abs(X.re[0] - sr)).toBeLessThan(1e-9 * n);
  });

  it('several concurrent transforms of different sizes all come back right', async () => {
    const jobs = [64, 97, 1000, 1009, 2048, 300].map(async (n) => {
      const re = random(n, n);
      const im = random(n, n + 1);
      const X = await fftAsync(re, im, [n]);
      return relErr(X, dft(re, im));
    });
    for (const e of await Promise.all(jobs)) expect(e).toBeLessThan(1e-12);
  });
});

describe('bad input', () => {
  const re = new Float64Array(6);
  const im = new Float64Array(6);

  it('wrong array types are TypeErrors naming the argument', () => {
    expect(() => fft(new Int32Array(6) as unknown as Float64Array, im, [6])).toThrow(TypeError);
    expect(() => fft(new Int32Array(6) as unknown as Float64Array, im, [6])).toThrow(/^re: must be a Float32Array or Float64Array, got Int32Array/);
    expect(() => fft([1, 2, 3] as unknown as Float64Array, im, [3])).toThrow(/^re: .*got Array/);
    expect(() => fft(re, new Float32Array(6) as unknown as Float64Array, [6])).toThrow(/^im: must be a Float64Array like re/);
    expect(() => fft(re, null as unknown as Float64Array, [6])).toThrow(TypeError);
    expect(() => rfft('x' as unknown as Float64Array, [1])).toThrow(/^x: /);
    expect(() => fftshift({} as unknown as Float64Array, [1])).toThrow(TypeError);
  });

  it('length / shape / axes mismatches are RangeErrors naming the argument', () => {
    expect(() => fft(re, im, [7])).toThrow(RangeError);
    expect(() => fft(re, im, [7])).toThrow(/^re: length 6 does not match shape \[7\]/);
    expect(() => fft(re, new Float64Array(5), [6])).toThrow(/^im: length 5/);
    expect(() => fft(re, im, [])).toThrow(/^shape: must be a non-empty array/);
    expect(() => fft(re, im, [2, 0, 3])).toThrow(/^shape\[1\]: must be a positive integer/);
    expect(() => fft(re, im, [2.5, 2])).toThrow(RangeError);
    expect(() => fft(re, im, [2, 3], { axes: [2] })).toThrow(/^options\.axes\[0\]: must be an integer in \[-2, 2\)/);
    expect(() => fft(re, im, [2, 3], { axes: [1, -1] })).toThrow(/^options\.axes: axis 1 given twice/);
    expect(() => fft(re, im, [2, 3], { axes: [] })).toThrow(/^options\.axes: must not be empty/);
    expect(() => irfft(new Float64Array(5), new Float64Array(5), [2, 3])).toThrow(/^re: length 5 does not match shape \[2, 2\]/);
    expect(() => fftshift(re, [5])).toThrow(RangeError);
  });

  it('unknown or mistyped options are TypeErrors', () => {
    expect(() => fft(re, im, [6], { axis: [0] } as never)).toThrow(/^options\.axis: unknown option/);
    expect(() => fft(re, im, [6], { inverse: 1 } as never)).toThrow(/^options\.inverse: must be a boolean/);
    expect(() => rfft(re, [6], { inverse: true } as never)).toThrow(/^options\.inverse: unknown option/);
    expect(() => fft(re, im, [6], [] as never)).toThrow(/^options: must be an object, got Array/);
  });

  it('async forms reject with the same errors', async () => {
    await expect(fftAsync(re, im, [7])).rejects.toThrow(RangeError);
    await expect(rfftAsync(new Uint8Array(3) as unknown as Float64Array, [3])).rejects.toThrow(TypeError);
    await expect(irfftAsync(re, im, [])).rejects.toThrow(RangeError);
  });

  it('the native functions re-check their arguments and throw instead of crashing', () => {
    const addon = createRequire(import.meta.url)(join(root, 'build', 'Release', 'qscope_native.node')) as Record<string, (...a: unknown[]) => unknown>;
    const f = new Float64Array(6);
    expect(() => addon.fftC2C(f, f, f, new Float64Array(5), [6], [0], false)).toThrow(RangeError);
    expect(() => addon.fftC2C(f, f, f, new Float32Array(6), [6], [0], false)).toThrow(TypeError);
    expect(() => addon.fftC2C(f, f, f, f, [6], [1], false)).toThrow(RangeError);
    expect(() => addon.fftC2C(f, f, f, f, [3, 2], [1, 0], false)).toThrow(RangeError);
    expect(() => addon.fftC2C(f, f, f, f, [-6], [0], false)).toThrow(RangeError);
    expect(() => addon.fftC2C(f, f, f, f, [6], [0])).toThrow(TypeError);
    expect(() => addon.fftR2C(f, new Float64Array(3), new Float64Array(3), [6], [0])).toThrow(/outRe: length 3/);
    expect(() => addon.fftC2R(f, f, f, [6], [0])).toThrow(RangeError);
    expect(() => addon.fftC2CAsync('a', f, f, f, [6], [0], false)).toThrow(TypeError);
    // the process is still fine
    const out = new Float64Array(4);
    addon.fftR2C(new Float64Array([1, 1, 1, 1, 1, 1]), out, new Float64Array(4), [6], [0]);
    expect(out[0]).toBe(6);
  });
});
