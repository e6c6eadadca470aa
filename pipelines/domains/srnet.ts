/**
 * The unsupervised super-resolution network of the domain-imaging paper
 * (issue 15), in tfjs, written functionally on tf.Variables (periodic
 * padding and the fixed down-sampling layer are not Keras layers):
 *
 *   LR [B, a, a, C] → expanding part: 4 × (periodic pad 1, 3×3 conv `width` filters, batch norm, leaky ReLU)
 *                   → decoder: log2(f) × (periodic pad 1, 3×3 conv, batch norm, leaky ReLU, 2×2 up-sampling)
 *                     with (16, 8), (32, 16, 8), (48, 32, 16, 8) filters for ×4, ×8, ×16
 *                   → periodic pad 1, 3×3 conv to C → SR [B, a·f, a·f, C]
 *                   → fixed down-sampling (periodic 23×23 Gaussian, σ = 1, stride f) → LR' [B, a, a, C]
 *   loss = MSE(LR, LR')  (no high-resolution data anywhere in the loss)
 *
 * qscope adds one fixed skip connection (config `skip: 'bicubic'`, decision
 * 1501): the final conv's output is added to the bicubic up-sampling of the
 * input before normalisation, so training starts from the baseline.
 *
 * The SR output is made physical inside the network: unit spins (v/|v|) for
 * C = 3, tanh for C = 1 (S_z ∈ [−1, 1]) — the "renormalised to unit length"
 * the baselines get too. The down-sampling is the camera's imaging model
 * (drivers/camera/imaging.ts); because the Gaussian is separable it is
 * applied as two matrix products LR = A·X·Aᵀ per channel, A [a, a·f] holding
 * the periodic taps, which equals the 23×23 convolution + stride exactly.
 *
 * Weights are drawn from a seeded generator (He normal), so a seed gives the
 * same initial network on every backend; training on wasm (single-threaded)
 * is deterministic.
 */
import type * as TF from '@tensorflow/tfjs';
import { BLUR_KERNEL, BLUR_SIGMA, gaussianTaps } from '../../drivers/camera/imaging.js';
import { Rng } from '../../drivers/core/rng.js';
import { upsampleMatrix } from './baselines.js';

export type SrFactor = 4 | 8 | 16;
export const SR_FACTORS: readonly SrFactor[] = [4, 8, 16];

/** Decoder filters per factor (the paper). */
export const DECODER_FILTERS: Readonly<Record<SrFactor, readonly number[]>> = Object.freeze({ 4: [16, 8], 8: [32, 16, 8], 16: [48, 32, 16, 8] });

export interface SrConfig {
  factor: SrFactor;
  /** 1 (Kerr: S_z) or 3 (SPLEEM: S_x, S_y, S_z). */
  components: 1 | 3;
  /** Filters of the expanding part (the paper: 64). */
  width: number;
  /** Expanding conv layers (the paper: 4). */
  depth: number;
  /** Leaky ReLU slope. */
  alpha: number;
  /**
   * 'bicubic': the final conv's output is added to the bicubic up-sampling of the input before
   * the spins are normalised (a fixed skip connection, decision 1501), so the network starts at
   * the baseline and learns a correction; 'none': the paper's network as printed.
   */
  skip: 'bicubic' | 'none';
}

export function defaultSrConfig(factor: SrFactor, components: 1 | 3): SrConfig {
  return { factor, components, width: 64, depth: 4, alpha: 0.2, skip: 'bicubic' };
}

export function checkSrConfig(c: SrConfig): void {
  if (!SR_FACTORS.includes(c.factor)) throw new RangeError(`factor: must be 4, 8 or 16, got ${c.factor}`);
  if (c.components !== 1 && c.components !== 3) throw new RangeError(`components: must be 1 or 3, got ${c.components}`);
  if (!Number.isInteger(c.width) || c.width < 1 || c.width > 256) throw new RangeError(`width: must be an integer in [1, 256], got ${c.width}`);
  if (!Number.isInteger(c.depth) || c.depth < 1 || c.depth > 8) throw new RangeError(`depth: must be an integer in [1, 8], got ${c.depth}`);
  if (c.skip !== 'bicubic' && c.skip !== 'none') throw new RangeError(`skip: must be 'bicubic' or 'none', got ${String(c.skip)}`);
}

/** Down-sampling matrix A [a, N] (N = a·f): LR = A·X·Aᵀ is the periodic Gaussian blur + stride. */
export function downsampleMatrix(a: number, f: number, kernel = BLUR_KERNEL, sigma = BLUR_SIGMA): Float32Array {
  const N = a * f;
  const taps = gaussianTaps(kernel, sigma);
  const h = (kernel - 1) / 2;
  const A = new Float64Array(a * N);
  for (let i = 0; i < a; i++) for (let t = 0; t < kernel; t++) A[i * N + ((((i * f + t - h) % N) + N) % N)]! += taps[t]!;
  return Float32Array.from(A);
}

interface ConvBn {
  w: TF.Variable;
  b: TF.Variable;
  gamma: TF.Variable;
  beta: TF.Variable;
  /** Running statistics for inference (not trained). */
  mean: TF.Variable;
  variance: TF.Variable;
}

/** (in, out) channels of every conv+BN block: expanding part then decoder. */
export function layerChannels(c: SrConfig): [number, number][] {
  const out: [number, number][] = [];
  let ch: number = c.components;
  for (let i = 0; i < c.depth; i++) out.push([ch, c.width]), (ch = c.width);
  for (const f of DECODER_FILTERS[c.factor]) out.push([ch, f]), (ch = f);
  return out;
}

let nextNetId = 0;

const BN_EPS = 1e-3;
const BN_MOMENTUM = 0.9;

/** Named weights in a fixed order (the saved format). */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

export class SrNet {
  readonly blocks: ConvBn[] = [];
  readonly out: { w: TF.Variable; b: TF.Variable };
  private readonly matrices = new Map<string, TF.Tensor2D>();
  /** Saved name of each variable (tfjs variable names are global, so they carry a per-network prefix). */
  private readonly names = new Map<TF.Variable, string>();

  private constructor(
    readonly tf: typeof TF,
    readonly config: SrConfig,
    weights: Map<string, NamedWeight>,
  ) {
    checkSrConfig(config);
    const id = nextNetId++;
    const v = (name: string, trainable = true) => {
      const w = weights.get(name);
      if (!w) throw new Error(`SR network: weight '${name}' missing`);
      const variable = tf.variable(tf.tensor(w.data, w.shape), trainable, `srnet${id}/${name}`);
      this.names.set(variable, name);
      return variable;
    };
    for (let i = 0; i < layerChannels(config).length; i++) {
      this.blocks.push({ w: v(`c${i}/w`), b: v(`c${i}/b`), gamma: v(`c${i}/gamma`), beta: v(`c${i}/beta`), mean: v(`c${i}/mean`, false), variance: v(`c${i}/variance`, false) });
    }
    this.out = { w: v('out/w'), b: v('out/b') };
  }


  /** A fresh network, He-normal weights from `seed`. */
  static create(tf: typeof TF, config: SrConfig, seed: number): SrNet {
    checkSrConfig(config);
    const rng = new Rng(seed);
    const weights = new Map<string, NamedWeight>();
    const put = (name: string, shape: number[], fill: (i: number) => number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      weights.set(name, { name, shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) });
    };
    const conv = (name: string, cin: number, cout: number, gain = 1) => {
      const sd = gain * Math.sqrt(2 / (9 * cin));
      put(`${name}/w`, [3, 3, cin, cout], () => rng.normal(0, sd));
      put(`${name}/b`, [cout], () => 0);
    };
    const channels = layerChannels(config);
    channels.forEach(([cin, cout], i) => {
      conv(`c${i}`, cin, cout);
      put(`c${i}/gamma`, [cout], () => 1);
      put(`c${i}/beta`, [cout], () => 0);
      put(`c${i}/mean`, [cout], () => 0);
      put(`c${i}/variance`, [cout], () => 1);
    });
    // With the bicubic skip, a small final layer starts the network near the baseline.
    conv('out', channels.at(-1)![1], config.components, config.skip === 'bicubic' ? 0.1 : 1);
    return new SrNet(tf, config, weights);
  }

  private static *zeroWeights(c: SrConfig): Generator<NamedWeight> {
    const chans = layerChannels(c);
    const ch = chans.at(-1)![1];
    const z = (name: string, shape: number[]): NamedWeight => ({ name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    for (const [i, [cin, cout]] of chans.entries()) {
      yield z(`c${i}/w`, [3, 3, cin, cout]);
      for (const k of ['b', 'gamma', 'beta', 'mean', 'variance']) yield z(`c${i}/${k}`, [cout]);
    }
    yield z('out/w', [3, 3, ch, c.components]);
    yield z('out/b', [c.components]);
  }

  /** Rebuilds a network from saved weights (every expected name must be there, with its shape). */
  static fromWeights(tf: typeof TF, config: SrConfig, weights: readonly NamedWeight[]): SrNet {
    checkSrConfig(config);
    const byName = new Map(weights.map((w) => [w.name, w]));
    for (const z of SrNet.zeroWeights(config)) {
      const w = byName.get(z.name);
      if (!w) throw new Error(`SR network: weight '${z.name}' missing`);
      if (w.shape.join(',') !== z.shape.join(',')) throw new Error(`SR network: weight '${z.name}' has shape [${w.shape}], expected [${z.shape}]`);
    }
    return new SrNet(tf, config, byName);
  }

  /** Every weight (trainable and running statistics), in the saved order. */
  weights(): NamedWeight[] {
    const out: NamedWeight[] = [];
    const add = (v: TF.Variable) => out.push({ name: this.names.get(v)!, shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) });
    for (const b of this.blocks) [b.w, b.b, b.gamma, b.beta, b.mean, b.variance].forEach(add);
    add(this.out.w);
    add(this.out.b);
    return out;
  }

  trainableVariables(): TF.Variable[] {
    return [...this.blocks.flatMap((b) => [b.w, b.b, b.gamma, b.beta]), this.out.w, this.out.b];
  }

  /**
   * Periodic padding by one pixel on each side of H and W. The wrapped rows and
   * columns are cut from 2D views ([B·H, W·C] for the columns, [B, H·(W+2)·C]
   * for the rows), so each slice (and each piece of its gradient, a split) is
   * B·H or B contiguous copies: slicing the NHWC tensor directly costs one
   * copy per pixel on wasm and dominated the training step.
   */
  private ppad(x: TF.Tensor4D): TF.Tensor4D {
    const tf = this.tf;
    const [B, H, W, C] = x.shape;
    const cols = x.reshape([B * H, W * C]);
    const r = (W + 2) * C;
    const y = tf.concat([cols.slice([0, (W - 1) * C], [-1, C]), cols, cols.slice([0, 0], [-1, C])], 1).reshape([B, H * r]);
    return tf.concat([y.slice([0, (H - 1) * r], [-1, r]), y, y.slice([0, 0], [-1, r])], 1).reshape([B, H + 2, W + 2, C]) as TF.Tensor4D;
  }

  /** 2×2 nearest up-sampling (output pixel i takes input pixel ⌊i/2⌋; wasm has the kernel and its gradient). */
  private up2(x: TF.Tensor4D): TF.Tensor4D {
    const [, H, W] = x.shape;
    return this.tf.image.resizeNearestNeighbor(x, [2 * H, 2 * W]);
  }

  /**
   * SR output [B, a·f, a·f, C] of an LR batch. `training`: batch statistics
   * (and `stats` receives each block's batch mean/variance, kept, for the
   * running averages); otherwise the running statistics.
   */
  forward(x: TF.Tensor4D, training: boolean, stats?: { mean: TF.Tensor; variance: TF.Tensor }[]): TF.Tensor4D {
    const tf = this.tf;
    let h = x;
    const nExpand = this.config.depth;
    this.blocks.forEach((blk, i) => {
      h = tf.conv2d(this.ppad(h), blk.w as unknown as TF.Tensor4D, 1, 'valid').add(blk.b) as TF.Tensor4D;
      let mean: TF.Tensor, variance: TF.Tensor;
      if (training) {
        const m = tf.moments(h, [0, 1, 2]);
        mean = m.mean;
        variance = m.variance;
        stats?.push({ mean: tf.keep(mean), variance: tf.keep(variance) });
      } else {
        mean = blk.mean;
        variance = blk.variance;
      }
      h = h.sub(mean).div(variance.add(BN_EPS).sqrt()).mul(blk.gamma).add(blk.beta) as TF.Tensor4D;
      h = tf.leakyRelu(h, this.config.alpha) as TF.Tensor4D;
      if (i >= nExpand) h = this.up2(h);
    });
    let v = tf.conv2d(this.ppad(h), this.out.w as unknown as TF.Tensor4D, 1, 'valid').add(this.out.b) as TF.Tensor4D;
    if (this.config.skip === 'bicubic') v = v.add(this.separable(x, this.upMatrix(x.shape[1]))) as TF.Tensor4D;
    if (this.config.components === 1) return tf.tanh(v);
    return v.div(v.square().sum(3, true).add(1e-12).sqrt()) as TF.Tensor4D;
  }

  /** The fixed down-sampling layer: periodic 23×23 Gaussian (σ = 1) + stride f, [B, N, N, C] → [B, N/f, N/f, C]. */
  downsample(sr: TF.Tensor4D): TF.Tensor4D {
    const N = sr.shape[1];
    const a = N / this.config.factor;
    let At = this.matrices.get(`down${a}`);
    if (!At) {
      At = this.tf.keep(this.tf.tensor2d(downsampleMatrix(a, this.config.factor), [a, N]).transpose() as TF.Tensor2D); // [N, a]
      this.matrices.set(`down${a}`, At);
    }
    return this.separable(sr, At);
  }

  /** Uᵀ [a, N] of the bicubic up-sampling (forward geometry) for LR side a. */
  private upMatrix(a: number): TF.Tensor2D {
    const N = a * this.config.factor;
    let Ut = this.matrices.get(`up${a}`);
    if (!Ut) {
      Ut = this.tf.keep(this.tf.tensor2d(upsampleMatrix('bicubic', a, this.config.factor), [N, a]).transpose() as TF.Tensor2D);
      this.matrices.set(`up${a}`, Ut);
    }
    return Ut;
  }

  /** Y = M·X·Mᵀ per image and channel, given Mᵀ [n, m]: [B, n, n, C] → [B, m, m, C]. */
  private separable(x: TF.Tensor4D, Mt: TF.Tensor2D): TF.Tensor4D {
    const tf = this.tf;
    const [B, n, , C] = x.shape;
    const m = Mt.shape[1];
    const t = x.transpose([0, 3, 1, 2]).reshape([B * C * n, n]);
    const cols = tf.matMul(t, Mt).reshape([B * C, n, m]).transpose([0, 2, 1]).reshape([B * C * m, n]);
    return tf.matMul(cols, Mt).reshape([B, C, m, m]).transpose([0, 3, 2, 1]) as TF.Tensor4D;
  }

  /** LR-consistency loss MSE(LR, down(SR(LR))) of a batch (no gradient). */
  loss(x: TF.Tensor4D, training = false): number {
    const tf = this.tf;
    return tf.tidy(() => tf.losses.meanSquaredError(x, this.downsample(this.forward(x, training))).dataSync()[0]!);
  }

  /**
   * One optimiser step on the LR batch `x` (unsupervised: the loss only sees
   * LR frames). Updates the running BN statistics. Returns the batch loss.
   */
  trainStep(optimizer: TF.Optimizer, x: TF.Tensor4D): number {
    const tf = this.tf;
    const stats: { mean: TF.Tensor; variance: TF.Tensor }[] = [];
    const cost = optimizer.minimize(() => tf.losses.meanSquaredError(x, this.downsample(this.forward(x, true, stats))) as TF.Scalar, true, this.trainableVariables());
    const loss = cost!.dataSync()[0]!;
    cost!.dispose();
    tf.tidy(() => {
      this.blocks.forEach((blk, i) => {
        const s = stats[i];
        if (!s) return;
        blk.mean.assign(blk.mean.mul(BN_MOMENTUM).add(s.mean.mul(1 - BN_MOMENTUM)));
        blk.variance.assign(blk.variance.mul(BN_MOMENTUM).add(s.variance.mul(1 - BN_MOMENTUM)));
      });
    });
    for (const s of stats) s.mean.dispose(), s.variance.dispose();
    return loss;
  }

  /** SR of LR frames (each [a, a, C] flat), inference mode; returns [a·f, a·f, C] each. */
  predict(frames: readonly Float32Array[], a: number): Float32Array[] {
    const tf = this.tf;
    const C = this.config.components;
    if (frames.length === 0) return [];
    const batch = new Float32Array(frames.length * a * a * C);
    frames.forEach((f, i) => {
      if (f.length !== a * a * C) throw new RangeError(`frame ${i}: ${f.length} values, expected ${a}·${a}·${C}`);
      batch.set(f, i * a * a * C);
    });
    const y = tf.tidy(() => this.forward(tf.tensor4d(batch, [frames.length, a, a, C]), false));
    const data = y.dataSync() as Float32Array;
    y.dispose();
    const n = a * this.config.factor;
    return frames.map((_, i) => data.slice(i * n * n * C, (i + 1) * n * n * C));
  }

  dispose(): void {
    for (const b of this.blocks) [b.w, b.b, b.gamma, b.beta, b.mean, b.variance].forEach((v) => v.dispose());
    this.out.w.dispose();
    this.out.b.dispose();
    for (const m of this.matrices.values()) m.dispose();
    this.matrices.clear();
  }
}
