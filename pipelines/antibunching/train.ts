/**
 * Training of the g2(0) CNN from the simulator (`qscope train g2`): fixed
 * seed, wasm backend, a checkpoint after every epoch (model + state.json),
 * resumable: a rerun with the same checkpoint directory continues from the
 * last finished epoch with the same data it would have seen.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../drivers/core/rng.js';
import { PAPER_GEOMETRY } from '../../drivers/hbt/model.js';
import { loadLayersModel, saveLayersModel } from '../core/tf-files.js';
import { SHRUNK_CNN, buildG2Cnn, encodeInputs, gaussianNll, predictEncoded, targets, type CnnShape } from './cnn.js';
import { augmentedSamples, heldOutRng, makeSources, trainingRng, windowSamples, type Samples } from './dataset.js';

export interface TrainOptions {
  /** Checkpoint directory (state.json, model.json, weights.bin). */
  checkpointDir: string;
  seed: number;
  epochs: number;
  samplesPerEpoch: number;
  batchSize: number;
  learningRate: number;
  /** Training sources (emitter × focus position) and their bank length in seconds. */
  trainSources: number;
  heldOutSources: number;
  bankSeconds: number;
  shape: CnnShape;
  log?: (line: string) => void;
}

export const DEFAULT_TRAIN: Omit<TrainOptions, 'checkpointDir'> = {
  seed: 7,
  epochs: 30,
  samplesPerEpoch: 8000,
  batchSize: 64,
  learningRate: 2e-3,
  trainSources: 2000,
  heldOutSources: 200,
  bankSeconds: 40,
  shape: SHRUNK_CNN,
};

interface EpochRecord {
  epoch: number;
  trainLoss: number;
  heldOutNll: number;
  heldOutRmse5s: number;
  wallS: number;
}

interface TrainState {
  seed: number;
  epochsDone: number;
  wallS: number;
  history: EpochRecord[];
}

/** Held-out evaluation on 5 s windows: NLL and RMSE against the true g2(0). */
export function evaluate(model: tf.LayersModel, s: Samples, bins: number): { nll: number; rmse: number; coverage1s: number } {
  const { x, events } = encodeInputs(s.histograms, s.n, bins);
  const p = predictEncoded(model, x, events, bins);
  let nll = 0;
  let se = 0;
  let inside = 0;
  for (let i = 0; i < s.n; i++) {
    const d = p.g2[i]! - s.labels[i]!;
    const v = p.std[i]! ** 2;
    nll += 0.5 * (Math.log(v) + (d * d) / v);
    se += (p.g2[i]! - s.truth[i]!) ** 2;
    if (Math.abs(d) <= p.std[i]!) inside++;
  }
  return { nll: nll / s.n, rmse: Math.sqrt(se / s.n), coverage1s: inside / s.n };
}

export async function trainG2(opts: TrainOptions): Promise<TrainState> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const bins = PAPER_GEOMETRY.bins;
  mkdirSync(opts.checkpointDir, { recursive: true });
  const statePath = join(opts.checkpointDir, 'state.json');
  let state: TrainState = { seed: opts.seed, epochsDone: 0, wallS: 0, history: [] };
  let model: tf.LayersModel;
  if (existsSync(statePath) && existsSync(join(opts.checkpointDir, 'model.json'))) {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainState;
    if (state.seed !== opts.seed) throw new Error(`seed: checkpoint in ${opts.checkpointDir} was trained with seed ${state.seed}, not ${opts.seed}`);
    model = await loadLayersModel(opts.checkpointDir);
    log(`resuming after epoch ${state.epochsDone} (${state.wallS.toFixed(0)} s so far)`);
  } else {
    model = buildG2Cnn(opts.shape, opts.seed);
  }
  // Adam restarts at each resume (its moments are not checkpointed); a small cost, written in MODEL.md.
  model.compile({ optimizer: tf.train.adam(opts.learningRate), loss: gaussianNll });
  log(`parameters: ${model.countParams()}, backend: ${tf.getBackend()}`);

  const t0 = Date.now();
  const trainSources = makeSources(trainingRng(opts.seed), opts.trainSources, { seconds: opts.bankSeconds });
  const heldOut = makeSources(heldOutRng(opts.seed), opts.heldOutSources, { seconds: 10 });
  const held5 = windowSamples(heldOut, 5, bins);
  log(`data: ${trainSources.length} training sources × ${opts.bankSeconds} s, ${heldOut.length} held-out sources (${held5.n} 5 s windows), ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  for (let epoch = state.epochsDone; epoch < opts.epochs; epoch++) {
    const start = Date.now();
    // Data for epoch e depends only on (seed, e): a resumed run sees what an uninterrupted one would.
    const s = augmentedSamples(Rng.derive(opts.seed, `g2/epoch/${epoch}`), trainSources, opts.samplesPerEpoch, 1, 10, bins);
    const { x, events } = encodeInputs(s.histograms, s.n, bins);
    const xs = [tf.tensor3d(x, [s.n, bins, 1]), tf.tensor2d(events, [s.n, 1])];
    const ys = tf.tensor2d(targets(s.labels), [s.n, 2]);
    // Halve the learning rate for the last third.
    if (epoch >= Math.floor((2 * opts.epochs) / 3)) (model.optimizer as unknown as { learningRate: number }).learningRate = opts.learningRate / 2;
    const h = await model.fit(xs, ys, { batchSize: opts.batchSize, epochs: 1, shuffle: true, verbose: 0 });
    tf.dispose([...xs, ys]);
    const ev = evaluate(model, held5, bins);
    const wall = (Date.now() - start) / 1000;
    state.epochsDone = epoch + 1;
    state.wallS += wall;
    state.history.push({ epoch: epoch + 1, trainLoss: h.history.loss![0] as number, heldOutNll: ev.nll, heldOutRmse5s: ev.rmse, wallS: wall });
    await saveLayersModel(model, opts.checkpointDir);
    writeFileSync(statePath, JSON.stringify(state, null, 1));
    log(`epoch ${epoch + 1}/${opts.epochs}: loss ${(h.history.loss![0] as number).toFixed(4)}, held-out 5 s NLL ${ev.nll.toFixed(4)} RMSE ${ev.rmse.toFixed(4)} 1σ-coverage ${ev.coverage1s.toFixed(3)}, ${wall.toFixed(1)} s`);
  }
  return state;
}

/** Copies the final checkpoint's model files to `modelDir` (the committed weights). */
export function publishModel(checkpointDir: string, modelDir: string): void {
  mkdirSync(modelDir, { recursive: true });
  for (const f of ['model.json', 'weights.bin']) copyFileSync(join(checkpointDir, f), join(modelDir, f));
}
