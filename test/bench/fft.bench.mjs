// `npm run bench -- fft`: qscope's native FFT against fft.js (radix-4, pure JS)
// in the same process. One JSON object per case on stdout. Times are medians
// (CPU microseconds per transform) of repeated samples after warm-up.
//
// fft.js gets its best case: preallocated interleaved Float64Array buffers and
// plans; its 2D transforms are rows then columns through a scratch line, as
// one would build them from its 1D transform. qscope's times include
// allocating its output arrays (its API returns new arrays).
// Non-power-of-two lengths have no fft.js counterpart (it only does powers
// of two): they are compared with qscope at the next power of two up.
import FFT from 'fft.js';
import * as q from '../../dist/native/index.js';

const SAMPLES = 15;
const MIN_SAMPLE_MS = 5;

// The machine is shared (2 cores, several engineers, model training): wall
// time mostly measures waiting for a core. Each sample is therefore the
// process CPU time (user + system) of a batch of calls, and the two
// contenders' samples are interleaved so that they see the same conditions.
function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function repsFor(fn) {
  // warm-up (plans, JIT, scratch and heap growth): at least 3 calls and 50 ms
  const w0 = cpuMicros();
  for (let i = 0; i < 3 || cpuMicros() - w0 < 50_000; i++) fn();
  let reps = 1;
  for (;;) {
    const t0 = cpuMicros();
    for (let i = 0; i < reps; i++) fn();
    if (cpuMicros() - t0 >= MIN_SAMPLE_MS * 1000 || reps >= 1 << 16) return reps;
    reps *= 2;
  }
}

/** Median microseconds per call of each function, samples interleaved. */
function time(...fns) {
  const reps = fns.map(repsFor);
  const samples = fns.map(() => []);
  for (let s = 0; s < SAMPLES; s++) {
    fns.forEach((fn, i) => {
      const t0 = cpuMicros();
      for (let r = 0; r < reps[i]; r++) fn();
      samples[i].push((cpuMicros() - t0) / reps[i]);
    });
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[SAMPLES >> 1]);
}

function random(Arr, n, seed) {
  let s = seed >>> 0;
  const a = new Arr(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

const plans = new Map();
function plan(n) {
  if (!plans.has(n)) plans.set(n, new FFT(n));
  return plans.get(n);
}

/** fft.js complex transform over the last two axes of [batch][n0][n1], interleaved data, in place. */
function fftjs2d(data, batch, n0, n1) {
  const f1 = plan(n1), f0 = plan(n0);
  const line = new Float64Array(2 * Math.max(n0, n1)), res = new Float64Array(2 * Math.max(n0, n1));
  return () => {
    for (let b = 0; b < batch; b++) {
      const off = b * n0 * n1 * 2;
      for (let r = 0; r < n0; r++) {
        const row = data.subarray(off + r * n1 * 2, off + (r + 1) * n1 * 2);
        f1.transform(res, row);
        row.set(res.subarray(0, 2 * n1));
      }
      for (let c = 0; c < n1; c++) {
        for (let r = 0; r < n0; r++) {
          const k = off + (r * n1 + c) * 2;
          line[2 * r] = data[k];
          line[2 * r + 1] = data[k + 1];
        }
        f0.transform(res, line);
        for (let r = 0; r < n0; r++) {
          const k = off + (r * n1 + c) * 2;
          data[k] = res[2 * r];
          data[k + 1] = res[2 * r + 1];
        }
      }
    }
  };
}

/** fft.js real 2D: realTransform on rows (half spectrum), complex transform of the n1/2+1 columns. */
function fftjsReal2d(x, n0, n1) {
  const f1 = plan(n1), f0 = plan(n0);
  const h = n1 / 2 + 1;
  const spec = new Float64Array(n0 * h * 2);
  const rowOut = new Float64Array(2 * n1), line = new Float64Array(2 * n0), res = new Float64Array(2 * n0);
  return () => {
    for (let r = 0; r < n0; r++) {
      f1.realTransform(rowOut, x.subarray(r * n1, (r + 1) * n1));
      spec.set(rowOut.subarray(0, 2 * h), r * h * 2);
    }
    for (let c = 0; c < h; c++) {
      for (let r = 0; r < n0; r++) {
        line[2 * r] = spec[(r * h + c) * 2];
        line[2 * r + 1] = spec[(r * h + c) * 2 + 1];
      }
      f0.transform(res, line);
      for (let r = 0; r < n0; r++) {
        spec[(r * h + c) * 2] = res[2 * r];
        spec[(r * h + c) * 2 + 1] = res[2 * r + 1];
      }
    }
  };
}

function emit(row) {
  process.stdout.write(JSON.stringify(row) + '\n');
}

const round = (x) => Math.round(x * 10) / 10;

function complexCase(name, shape, dtype, axes) {
  const Arr = dtype === 'f32' ? Float32Array : Float64Array;
  const n = shape.reduce((a, b) => a * b, 1);
  const re = random(Arr, n, 1), im = random(Arr, n, 2);
  const opts = axes ? { axes } : undefined;
  return { n, re, im, qscope: () => q.fft(re, im, shape, opts) };
}

// ---- power-of-two cases, against fft.js ----
const pow2 = [
  { case: 'c2c-1d', shape: [1024] },
  { case: 'c2c-1d', shape: [4096] },
  { case: 'c2c-1d', shape: [65536] },
  { case: 'c2c-2d', shape: [64, 64] },
  { case: 'c2c-2d', shape: [256, 256] },
  { case: 'c2c-2d', shape: [1024, 1024] },
  { case: 'c2c-2d-batched', shape: [46, 64, 64], axes: [-2, -1] },
  { case: 'r2c-2d', shape: [256, 256] },
];
const only = process.env.FFT_BENCH_ONLY; // e.g. "c2c-2d" to run a subset
for (const dtype of ['f64', 'f32']) {
  for (const c of pow2) {
    if (only && c.case !== only) continue;
    let qscope_us, fftjs_us;
    if (c.case === 'r2c-2d') {
      const [n0, n1] = c.shape;
      const x = random(dtype === 'f32' ? Float32Array : Float64Array, n0 * n1, 3);
      [qscope_us, fftjs_us] = time(() => q.rfft(x, c.shape), fftjsReal2d(Float64Array.from(x), n0, n1));
    } else {
      const { n, re, im, qscope } = complexCase(c.case, c.shape, dtype, c.axes);
      const inter = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) { inter[2 * i] = re[i]; inter[2 * i + 1] = im[i]; }
      if (c.shape.length === 1) {
        const f = plan(n), out = f.createComplexArray();
        [qscope_us, fftjs_us] = time(qscope, () => f.transform(out, inter));
      } else {
        const [n0, n1] = c.shape.slice(-2);
        [qscope_us, fftjs_us] = time(qscope, fftjs2d(inter, n / (n0 * n1), n0, n1));
      }
    }
    emit({ case: c.case, shape: c.shape, dtype, qscope_us: round(qscope_us), fftjs_us: round(fftjs_us), ratio: round(fftjs_us / qscope_us * 100) / 100 });
  }
}

// ---- non-power-of-two cases: qscope alone, against its own next power of two ----
const nextPow2 = (n) => 2 ** Math.ceil(Math.log2(n));
const other = [
  { case: 'c2c-2d', shape: [50, 50] },
  { case: 'c2c-1d', shape: [215] },
  { case: 'c2c-1d', shape: [1000] },
  { case: 'c2c-1d', shape: [43 * 64] },
  { case: 'c2c-1d', shape: [1009] }, // prime: Bluestein
];
for (const dtype of ['f64', 'f32']) {
  for (const c of other) {
    if (only && c.case !== only) continue;
    const p2 = c.shape.map(nextPow2);
    const [qscope_us, pow2_us] = time(complexCase(c.case, c.shape, dtype).qscope, complexCase(c.case, p2, dtype).qscope);
    emit({ case: c.case, shape: c.shape, dtype, qscope_us: round(qscope_us), pow2_shape: p2, pow2_us: round(pow2_us), ratio_vs_pow2: round(qscope_us / pow2_us * 100) / 100 });
  }
}
