/**
 * Interpolation baselines with the forward model's sampling geometry: HR
 * pixel i·f sits on LR pixel i, and both grids wrap periodically, so a
 * baseline and the network are compared on the same footing. Spins are
 * renormalised for every method: unit vectors for C = 3, S_z clipped to
 * [−1, 1] for C = 1 (`normaliseSpins`).
 *
 *   bilinear — linear in each axis between the two nearest LR samples;
 *   bicubic  — Keys' cubic convolution (a = −0.5), four samples per axis;
 *   gaussian — normalised Gaussian weights of the LR samples, σ = f/2 HR px
 *              (half an LR pixel), taps within 3σ.
 */

export type BaselineMethod = 'bilinear' | 'bicubic' | 'gaussian';
export const BASELINES: readonly BaselineMethod[] = ['bilinear', 'bicubic', 'gaussian'];

/** Interpolation weights of one output coordinate: LR indices (already wrapped) and weights. */
type Taps = { idx: number[]; w: number[] };

function axisTaps(method: BaselineMethod, a: number, f: number): Taps[] {
  const out: Taps[] = [];
  const wrap = (i: number) => ((i % a) + a) % a;
  for (let x = 0; x < a * f; x++) {
    const u = x / f;
    const i0 = Math.floor(u);
    const t = u - i0;
    if (method === 'bilinear') out.push({ idx: [wrap(i0), wrap(i0 + 1)], w: [1 - t, t] });
    else if (method === 'bicubic') {
      const k = (s: number) => {
        const v = Math.abs(s), A = -0.5;
        return v <= 1 ? (A + 2) * v ** 3 - (A + 3) * v ** 2 + 1 : v < 2 ? A * v ** 3 - 5 * A * v ** 2 + 8 * A * v - 4 * A : 0;
      };
      out.push({ idx: [-1, 0, 1, 2].map((d) => wrap(i0 + d)), w: [-1, 0, 1, 2].map((d) => k(t - d)) });
    } else {
      const sigma = 0.5; // LR pixels
      const r = Math.ceil(3 * sigma);
      const idx: number[] = [], w: number[] = [];
      let s = 0;
      for (let d = -r; d <= r + 1; d++) {
        const wt = Math.exp(-((u - (i0 + d)) ** 2) / (2 * sigma * sigma));
        idx.push(wrap(i0 + d));
        w.push(wt);
        s += wt;
      }
      out.push({ idx, w: w.map((v) => v / s) });
    }
  }
  return out;
}

/** Up-samples one LR frame [a, a, C] by f with `method`; returns [a·f, a·f, C], spins renormalised. */
export function upsample(method: BaselineMethod, lr: ArrayLike<number>, a: number, f: number, components: number): Float32Array {
  if (!BASELINES.includes(method)) throw new RangeError(`method: must be one of ${BASELINES.join(', ')}, got ${String(method)}`);
  const C = components;
  if (lr.length !== a * a * C) throw new RangeError(`lr: ${lr.length} values, expected ${a}·${a}·${C}`);
  const N = a * f;
  const taps = axisTaps(method, a, f);
  // Separable: along columns first ([a, N, C]), then rows.
  const mid = new Float64Array(a * N * C);
  for (let r = 0; r < a; r++)
    for (let x = 0; x < N; x++) {
      const { idx, w } = taps[x]!;
      for (let k = 0; k < idx.length; k++) {
        const src = (r * a + idx[k]!) * C;
        for (let c = 0; c < C; c++) mid[(r * N + x) * C + c]! += w[k]! * lr[src + c]!;
      }
    }
  const out = new Float32Array(N * N * C);
  for (let y = 0; y < N; y++) {
    const { idx, w } = taps[y]!;
    for (let x = 0; x < N; x++)
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let k = 0; k < idx.length; k++) s += w[k]! * mid[(idx[k]! * N + x) * C + c]!;
        out[(y * N + x) * C + c] = s;
      }
  }
  return normaliseSpins(out, C);
}

/**
 * The interpolation as a matrix U [a·f, a] (periodic, forward geometry): the
 * up-sampled map of one channel is U·X·Uᵀ before renormalisation (the SR
 * network's skip connection uses the bicubic one).
 */
export function upsampleMatrix(method: BaselineMethod, a: number, f: number): Float32Array {
  const N = a * f;
  const U = new Float64Array(N * a);
  axisTaps(method, a, f).forEach(({ idx, w }, x) => idx.forEach((i, k) => (U[x * a + i]! += w[k]!)));
  return Float32Array.from(U);
}

/** In place: unit vectors for C = 3 (a zero vector becomes +ẑ), S_z clipped to [−1, 1] for C = 1. */
export function normaliseSpins<A extends Float32Array | Float64Array>(s: A, components: number): A {
  if (components === 1) {
    for (let i = 0; i < s.length; i++) s[i] = Math.max(-1, Math.min(1, s[i]!));
    return s;
  }
  for (let i = 0; i < s.length; i += components) {
    let q = 0;
    for (let c = 0; c < components; c++) q += s[i + c]! ** 2;
    q = Math.sqrt(q);
    if (q < 1e-12) {
      for (let c = 0; c < components; c++) s[i + c] = c === components - 1 ? 1 : 0;
    } else for (let c = 0; c < components; c++) s[i + c]! /= q;
  }
  return s;
}
