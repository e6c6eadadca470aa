/**
 * Pre-training of the SR network from the project's own simulator
 * (`qscope train domains`): annealed textures (textures.ts, training seeds
 * only) → augmented LR frames through the camera's forward model (data.ts)
 * → unsupervised LR-consistency loss with Adam. The HR truth is used only
 * for the validation metric (held-out seeds), never in the loss.
 *
 * Seeded (weights from the seed; batch i from Rng.derive(seed, `batch/i`), so
 * a resumed run draws the same batches), checkpointed every
 * `checkpointEvery` steps into `<out>/checkpoint/` (weights, Adam moments,
 * step, losses), and resumable from it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { Rng } from '../../drivers/core/rng.js';
import { mse, psnr, spinCorrelation } from '../core/metrics.js';
import { upsample } from './baselines.js';
import { hrTruth, lrFrame, randomAugmentation, transformTexture } from './data.js';
import { loadSrModel, saveSrModel, type TrainedOn } from './model-io.js';
import { dominantPeriod, TYPE1_PERIOD_HR } from './nyquist.js';
import { defaultSrConfig, SrNet, type SrConfig, type SrFactor } from './srnet.js';
import { HELDOUT_SEED_BASE, seedRange, TEXTURE_SIZE, textureSet, TRAIN_SEED_BASE, type TextureType } from './textures.js';

export interface TrainOptions {
  type: TextureType;
  factor: SrFactor;
  components: 1 | 3;
  /** Optimiser steps to reach (counting steps already in the checkpoint). */
  steps: number;
  batch: number;
  /** Adam learning rate (the paper: 0.01). */
  lr: number;
  seed: number;
  /** Training textures (seeds TRAIN_SEED_BASE[type] + i). */
  textures: number;
  /** Held-out textures for the validation metric (HELDOUT_SEED_BASE[type] + i, i < validation). */
  validation: number;
  /** LR noise σ drawn per frame uniformly in [0, noise]. */
  noise: number;
  /** Expanding-part filters (the paper: 64). */
  width: number;
  checkpointEvery: number;
  out: string;
  /** Where annealed textures are cached (default `<out>/textures`). */
  textureCache?: string;
  /** Texture side (the paper: 128). */
  size?: number;
  /** Side of the HR window each training frame is cut from (≤ size; default size): a 64² crop costs a quarter of a 128² frame. */
  crop?: number;
  log?: (m: string) => void;
  signal?: AbortSignal;
}

export const DEFAULT_TRAIN = Object.freeze({ steps: 300, batch: 8, lr: 0.005, seed: 1, textures: 16, validation: 4, noise: 0.05, width: 16, crop: 64, checkpointEvery: 25 });

export interface ValidationMetrics {
  /** HR metrics of the SR output against the held-out truth. */
  mse: number;
  psnr: number;
  corr: number;
  /** The same for bicubic (reference). */
  bicubicPsnr: number;
  bicubicCorr: number;
  /** LR-consistency loss on the validation frames. */
  lrLoss: number;
}

export interface TrainReport {
  options: Omit<TrainOptions, 'log' | 'signal'>;
  config: SrConfig;
  trainedOn: TrainedOn;
  step: number;
  losses: number[];
  validation: { step: number; metrics: ValidationMetrics }[];
  trainSeconds: number;
  backend: string;
}

interface CheckpointState {
  step: number;
  losses: number[];
  validation: TrainReport['validation'];
  trainSeconds: number;
  optimizer: { name: string; shape: number[] }[];
}

/** Period of the textures, HR sites: Type I the cycloid period 2π/atan(D/J); Type II measured on S_z. */
export function texturePeriod(type: TextureType, textures: readonly Float32Array[], n: number): number {
  if (type === 1) return TYPE1_PERIOD_HR;
  let s = 0;
  for (const t of textures) s += dominantPeriod(Float64Array.from({ length: n * n }, (_, i) => t[i * 3 + 2]!), n);
  return s / textures.length;
}

/** Validation frames: each held-out texture seen unshifted, no noise. */
export function validationSet(textures: readonly Float32Array[], n: number, f: number, C: 1 | 3): { lr: Float32Array[]; hr: Float32Array[] } {
  return { lr: textures.map((t) => lrFrame(t, n, f, C)), hr: textures.map((t) => hrTruth(t, n, C)) };
}

export function evaluateSr(net: SrNet, set: { lr: Float32Array[]; hr: Float32Array[] }, n: number): ValidationMetrics {
  const { factor: f, components: C } = net.config;
  const a = n / f;
  const sr = net.predict(set.lr, a);
  const m = { mse: 0, psnr: 0, corr: 0, bicubicPsnr: 0, bicubicCorr: 0, lrLoss: 0 };
  const tf = net.tf;
  set.lr.forEach((lr, i) => {
    const hr = set.hr[i]!;
    m.mse += mse(sr[i]!, hr);
    m.psnr += psnr(sr[i]!, hr, 2);
    m.corr += spinCorrelation(sr[i]!, hr, C);
    const bc = upsample('bicubic', lr, a, f, C);
    m.bicubicPsnr += psnr(bc, hr, 2);
    m.bicubicCorr += spinCorrelation(bc, hr, C);
    m.lrLoss += tf.tidy(() => tf.losses.meanSquaredError(tf.tensor4d(lr, [1, a, a, C]), net.downsample(tf.tensor4d(sr[i]!, [1, n, n, C]))).dataSync()[0]!);
  });
  const k = set.lr.length;
  return { mse: m.mse / k, psnr: m.psnr / k, corr: m.corr / k, bicubicPsnr: m.bicubicPsnr / k, bicubicCorr: m.bicubicCorr / k, lrLoss: m.lrLoss / k };
}

/** One training batch [B, a, a, C] drawn reproducibly for step `step`. */
export function trainingBatch(textures: readonly Float32Array[], n: number, o: Pick<TrainOptions, 'factor' | 'components' | 'batch' | 'noise' | 'seed' | 'crop'>, step: number): Float32Array {
  const rng = Rng.derive(o.seed, `batch/${step}`);
  const crop = o.crop ?? n;
  const a = crop / o.factor;
  const out = new Float32Array(o.batch * a * a * o.components);
  for (let b = 0; b < o.batch; b++) {
    const tex = textures[rng.int(textures.length)]!;
    const aug = randomAugmentation(rng, n);
    const sigma = o.noise * rng.uniform();
    let frame: Float32Array;
    if (crop === n) frame = lrFrame(transformTexture(tex, n, aug), n, o.factor, o.components, aug.shift, sigma, rng);
    else {
      // A crop×crop window of the shifted texture, imaged as if it were periodic (self-consistent for the LR loss).
      const rolled = hrTruth(transformTexture(tex, n, aug), n, 3, aug.shift);
      const win = new Float32Array(crop * crop * 3);
      for (let r = 0; r < crop; r++) win.set(rolled.subarray(r * n * 3, (r * n + crop) * 3), r * crop * 3);
      frame = lrFrame(win, crop, o.factor, o.components, [0, 0], sigma, rng);
    }
    out.set(frame, b * a * a * o.components);
  }
  return out;
}

export async function trainDomains(tf: typeof TF, o: TrainOptions): Promise<TrainReport> {
  const log = o.log ?? (() => undefined);
  const n = o.size ?? TEXTURE_SIZE;
  const crop = o.crop ?? n;
  const a = crop / o.factor;
  if (!Number.isInteger(a) || crop > n) throw new RangeError(`crop ${crop} must be ≤ size ${n} and a multiple of factor ${o.factor}`);
  mkdirSync(o.out, { recursive: true });
  const cache = o.textureCache ?? join(o.out, 'textures');
  log(`textures: ${o.textures} training (seeds ${TRAIN_SEED_BASE[o.type]}…), ${o.validation} validation (held-out seeds ${HELDOUT_SEED_BASE[o.type]}…), cache ${cache}`);
  const train = await textureSet(o.type, seedRange(TRAIN_SEED_BASE[o.type], o.textures), { n, cacheDir: cache, ...(o.signal ? { signal: o.signal } : {}), onTexture: (i) => (i + 1) % 8 === 0 && log(`  annealed/read ${i + 1}/${o.textures}`) });
  const held = await textureSet(o.type, seedRange(HELDOUT_SEED_BASE[o.type], o.validation), { n, cacheDir: cache, ...(o.signal ? { signal: o.signal } : {}) });
  const val = validationSet(held, n, o.factor, o.components);
  const trainedOn: TrainedOn = { type: o.type, periodHr: texturePeriod(o.type, train, n) };
  const config: SrConfig = { ...defaultSrConfig(o.factor, o.components), width: o.width };

  const ckpt = join(o.out, 'checkpoint');
  let net: SrNet;
  let state: CheckpointState = { step: 0, losses: [], validation: [], trainSeconds: 0, optimizer: [] };
  const optimizer = tf.train.adam(o.lr);
  if (existsSync(join(ckpt, 'state.json'))) {
    state = JSON.parse(readFileSync(join(ckpt, 'state.json'), 'utf8')) as CheckpointState;
    const loaded = loadSrModel(tf, ckpt);
    if (JSON.stringify(loaded.json.config) !== JSON.stringify(config)) throw new Error(`${ckpt}: checkpoint config ${JSON.stringify(loaded.json.config)} does not match ${JSON.stringify(config)}`);
    net = loaded.net;
    const bin = readFileSync(join(ckpt, 'optimizer.bin'));
    const data = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    let off = 0;
    await optimizer.setWeights(
      state.optimizer.map((w) => {
        const k = w.shape.reduce((p, q) => p * q, 1);
        const t = tf.tensor(data.slice(off, off + k), w.shape);
        off += k;
        return { name: w.name, tensor: t };
      }),
    );
    log(`resumed from ${ckpt} at step ${state.step}`);
  } else {
    net = SrNet.create(tf, config, o.seed);
  }

  const save = async () => {
    mkdirSync(ckpt, { recursive: true });
    saveSrModel(net, trainedOn, ckpt);
    const ws = await optimizer.getWeights();
    const bin = Buffer.concat(ws.map((w) => Buffer.from((w.tensor.dataSync() as Float32Array).buffer)));
    writeFileSync(join(ckpt, 'optimizer.bin.tmp'), bin);
    const st: CheckpointState = { ...state, optimizer: ws.map((w) => ({ name: w.name, shape: [...w.tensor.shape] })) };
    writeFileSync(join(ckpt, 'state.json.tmp'), JSON.stringify(st));
    renameSync(join(ckpt, 'optimizer.bin.tmp'), join(ckpt, 'optimizer.bin'));
    renameSync(join(ckpt, 'state.json.tmp'), join(ckpt, 'state.json'));
  };

  while (state.step < o.steps) {
    if (o.signal?.aborted) throw o.signal.reason;
    const t0 = performance.now();
    const x = tf.tensor4d(trainingBatch(train, n, { ...o }, state.step), [o.batch, a, a, o.components]);
    const loss = net.trainStep(optimizer, x);
    x.dispose();
    state.trainSeconds += (performance.now() - t0) / 1000;
    state.losses.push(loss);
    state.step++;
    if (state.step % o.checkpointEvery === 0 || state.step === o.steps) {
      const metrics = evaluateSr(net, val, n);
      state.validation.push({ step: state.step, metrics });
      const recent = state.losses.slice(-o.checkpointEvery);
      log(`step ${state.step}/${o.steps}: LR loss ${(recent.reduce((p, q) => p + q, 0) / recent.length).toExponential(3)}; validation PSNR ${metrics.psnr.toFixed(2)} dB (bicubic ${metrics.bicubicPsnr.toFixed(2)}), Corr ${metrics.corr.toFixed(4)} (bicubic ${metrics.bicubicCorr.toFixed(4)}); ${(state.trainSeconds / state.step).toFixed(2)} s/step`);
      await save();
    }
  }
  saveSrModel(net, trainedOn, o.out);
  const report: TrainReport = { options: strip(o), config, trainedOn, step: state.step, losses: state.losses, validation: state.validation, trainSeconds: state.trainSeconds, backend: tf.getBackend() };
  writeFileSync(join(o.out, 'training.json'), JSON.stringify(report, null, 1));
  net.dispose();
  optimizer.dispose();
  return report;
}

function strip(o: TrainOptions): TrainReport['options'] {
  const { log: _l, signal: _s, ...rest } = o;
  return rest;
}
