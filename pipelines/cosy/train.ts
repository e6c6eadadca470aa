/**
 * DLNet training (`qscope train cosy`): simulated maps, fresh noise and masks
 * every epoch, L1 loss on the 50×50 map, Adam 5e-4, fixed seed. Checkpointed
 * after every epoch (weights + Adam state + progress) and resumable: running
 * it again continues from the last completed epoch.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { Rng } from '../../drivers/core/rng.js';
import { buildDLNet, DEFAULT_DLNET, DLNET_SIZE, packInput, unpackOutput, type DLNetConfig } from './dlnet.js';
import { loadModel, loadOptimizer, saveModel, saveOptimizer } from './model-io.js';
import { COSY_N, heldOutMap, makeExample, trainingMap } from './simdata.js';

export interface TrainOptions {
  /** Checkpoint folder (model + optimizer + progress.json). */
  checkpointDir: string;
  seed: number;
  epochs: number;
  /** Distinct simulated maps; each epoch draws new noise and masks for them. */
  trainMaps: number;
  batchSize: number;
  /** Held-out maps evaluated after every epoch at 10 % sampling. */
  heldOut: number;
  net: DLNetConfig;
  learningRate: number;
  noiseSigma: number;
  /** Sampling fractions drawn uniformly in this range. */
  maskRange: [number, number];
  log: (msg: string) => void;
}

export const DEFAULT_TRAIN: Omit<TrainOptions, 'checkpointDir' | 'log'> = {
  seed: 8,
  epochs: 12,
  trainMaps: 1536,
  batchSize: 16,
  heldOut: 32,
  net: DEFAULT_DLNET,
  learningRate: 5e-4,
  noiseSigma: 0.1,
  maskRange: [0.05, 0.5],
};

export interface Progress {
  seed: number;
  net: DLNetConfig;
  epochsDone: number;
  history: { epoch: number; trainL1: number; heldOutL1: number; heldOutRmse: number; seconds: number }[];
  wallSeconds: number;
}

/** The fixed held-out set (10 % masks) used for the per-epoch metric and the model card. */
export function heldOutExamples(seed: number, count: number, fraction = 0.1, sigma = 0.1) {
  return Array.from({ length: count }, (_, i) => makeExample(heldOutMap(seed, i), fraction, sigma, Rng.derive(seed, `heldout-mask/${fraction}/${i}`)));
}

/** Runs DLNet on examples in batches; returns the completed maps (input scale). */
export function predictBatch(tf: typeof TF, model: TF.LayersModel, inputs: ArrayLike<number>[], masks: ArrayLike<number>[], n = COSY_N): Float64Array[] {
  const x = tf.tensor4d(packInput(inputs, masks, n, n), [inputs.length, DLNET_SIZE, DLNET_SIZE, 2]);
  const y = model.predict(x) as TF.Tensor;
  const data = y.dataSync() as Float32Array;
  x.dispose();
  y.dispose();
  return unpackOutput(data, inputs.length, n, n);
}

export function evaluate(tf: typeof TF, model: TF.LayersModel, examples: ReturnType<typeof heldOutExamples>, batch = 8): { l1: number; rmse: number } {
  let l1 = 0, se = 0, count = 0;
  for (let s = 0; s < examples.length; s += batch) {
    const part = examples.slice(s, s + batch);
    const out = predictBatch(tf, model, part.map((e) => e.input), part.map((e) => e.mask));
    out.forEach((m, k) => {
      const t = part[k]!.target;
      for (let i = 0; i < m.length; i++) {
        const d = m[i]! - t[i]!;
        l1 += Math.abs(d);
        se += d * d;
      }
      count += m.length;
    });
  }
  return { l1: l1 / count, rmse: Math.sqrt(se / count) };
}

export async function trainDLNet(tf: typeof TF, opts: TrainOptions): Promise<Progress> {
  const { checkpointDir: dir, log } = opts;
  await mkdir(dir, { recursive: true });
  const progressPath = join(dir, 'progress.json');
  let progress: Progress = { seed: opts.seed, net: opts.net, epochsDone: 0, history: [], wallSeconds: 0 };
  let model: TF.LayersModel;
  const optimizer = tf.train.adam(opts.learningRate);
  if (existsSync(progressPath) && existsSync(join(dir, 'model.json'))) {
    progress = JSON.parse(await readFile(progressPath, 'utf8')) as Progress;
    if (progress.seed !== opts.seed || JSON.stringify(progress.net) !== JSON.stringify(opts.net)) {
      throw new Error(`${progressPath}: checkpoint was made with seed ${progress.seed} / net ${JSON.stringify(progress.net)}; use another --checkpoint folder`);
    }
    model = await loadModel(tf, dir);
    await loadOptimizer(tf, optimizer, dir);
    log(`resuming after epoch ${progress.epochsDone}`);
  } else {
    model = buildDLNet(tf, opts.net, opts.seed);
    log(`new DLNet ${JSON.stringify(opts.net)}: ${model.countParams()} parameters`);
  }

  if (progress.epochsDone >= opts.epochs) {
    log(`checkpoint already has ${progress.epochsDone} epochs (≥ ${opts.epochs}): nothing to train`);
    return progress;
  }
  log(`simulating ${opts.trainMaps} training maps (seed ${opts.seed})`);
  const maps = Array.from({ length: opts.trainMaps }, (_, i) => trainingMap(opts.seed, i));
  const heldOut = heldOutExamples(opts.seed, opts.heldOut, 0.1, opts.noiseSigma);
  const n = COSY_N;

  for (let epoch = progress.epochsDone; epoch < opts.epochs; epoch++) {
    const started = Date.now();
    const rng = Rng.derive(opts.seed, `epoch/${epoch}`);
    const order = Int32Array.from({ length: maps.length }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let lossSum = 0, batches = 0;
    for (let s = 0; s + opts.batchSize <= order.length; s += opts.batchSize) {
      const ex = Array.from({ length: opts.batchSize }, (_, k) => makeExample(maps[order[s + k]!]!, rng.range(opts.maskRange[0], opts.maskRange[1]), opts.noiseSigma, rng));
      const x = tf.tensor4d(packInput(ex.map((e) => e.input), ex.map((e) => e.mask), n, n), [ex.length, DLNET_SIZE, DLNET_SIZE, 2]);
      const yData = new Float32Array(ex.length * n * n);
      ex.forEach((e, k) => yData.set(e.target, k * n * n));
      const y = tf.tensor4d(yData, [ex.length, n, n, 1]);
      const loss = optimizer.minimize(() => {
        const pred = (model.apply(x, { training: true }) as TF.Tensor4D).slice([0, 0, 0, 0], [-1, n, n, 1]);
        return tf.mean(tf.abs(tf.sub(pred, y))) as TF.Scalar;
      }, true) as TF.Scalar;
      lossSum += (await loss.data())[0]!;
      batches++;
      tf.dispose([x, y, loss]);
      if (batches % 16 === 0) log(`epoch ${epoch + 1} batch ${batches}: L1 ${(lossSum / batches).toFixed(4)} (${((Date.now() - started) / batches).toFixed(0)} ms/batch)`);
    }
    const ev = evaluate(tf, model, heldOut);
    const seconds = (Date.now() - started) / 1000;
    progress.epochsDone = epoch + 1;
    progress.wallSeconds += seconds;
    progress.history.push({ epoch: epoch + 1, trainL1: lossSum / batches, heldOutL1: ev.l1, heldOutRmse: ev.rmse, seconds });
    await saveModel(tf, model, dir);
    await saveOptimizer(optimizer, dir);
    await writeFile(progressPath, JSON.stringify(progress, null, 2));
    log(`epoch ${epoch + 1}/${opts.epochs}: train L1 ${(lossSum / batches).toFixed(4)}, held-out (10 %) L1 ${ev.l1.toFixed(4)} RMSE ${ev.rmse.toFixed(4)}, ${seconds.toFixed(0)} s; checkpoint saved (${tf.memory().numTensors} tensors live)`);
  }
  return progress;
}
