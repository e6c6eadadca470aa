/**
 * The g2(0) CNN regressor (paper, Fig. 2b), shrunk to train on one shared
 * core: three conv1d layers (kernel 4), max-pool, dropout, the event count
 * concatenated to the features, three dense layers; plus a variance output
 * (mean–variance head trained with Gaussian NLL) so each estimate carries an
 * uncertainty.
 *
 * Input encoding: the histogram divided by its mean count per bin (so the
 * flat accidental level reads ≈ 1 whatever the brightness), and
 * log(1 + N_events)/5 as the second input.
 */
import * as tf from '@tensorflow/tfjs';

export interface CnnShape {
  bins: number;
  /** Filters per conv layer (paper: 260). */
  channels: number;
  kernel: number;
  /** Units of the first two dense layers (the third is the 2-unit output). */
  dense: [number, number];
  dropout: number;
}

export const SHRUNK_CNN: CnnShape = { bins: 215, channels: 16, kernel: 4, dense: [32, 16], dropout: 0.1 };

/** The paper's size, for the parameter-count comparison in MODEL.md. */
export const PAPER_CNN: CnnShape = { bins: 215, channels: 260, kernel: 4, dense: [260, 260], dropout: 0.1 };

export function buildG2Cnn(s: CnnShape = SHRUNK_CNN, seed = 1): tf.LayersModel {
  const hist = tf.input({ shape: [s.bins, 1], name: 'histogram' });
  const events = tf.input({ shape: [1], name: 'events' });
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  let h = hist as tf.SymbolicTensor;
  for (let i = 0; i < 3; i++) {
    h = tf.layers.conv1d({ filters: s.channels, kernelSize: s.kernel, activation: 'relu', kernelInitializer: init(i), name: `conv${i + 1}` }).apply(h) as tf.SymbolicTensor;
  }
  h = tf.layers.maxPooling1d({ poolSize: 2, name: 'pool' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: s.dropout, seed, name: 'dropout' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten({ name: 'flatten' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.concatenate({ name: 'with_events' }).apply([h, events]) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: s.dense[0], activation: 'relu', kernelInitializer: init(10), name: 'dense1' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: s.dense[1], activation: 'relu', kernelInitializer: init(11), name: 'dense2' }).apply(h) as tf.SymbolicTensor;
  // Output 0: g2(0); output 1: log variance of its error.
  const out = tf.layers.dense({ units: 2, kernelInitializer: init(12), biasInitializer: tf.initializers.constant({ value: 0.5 }), name: 'mean_logvar' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: [hist, events], outputs: out, name: 'g2cnn' });
}

/** Log-variance range the head may use (σ from 0.011 to 4.5). */
const LOGVAR_MIN = -9;
const LOGVAR_MAX = 3;

/**
 * Gaussian negative log-likelihood of y under N(μ, e^s), averaged (constant
 * dropped). Targets are [n, 2] to match the output; only column 0 is used.
 */
export function gaussianNll(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const y = yTrue.slice([0, 0], [-1, 1]).reshape([-1]);
    const mu = yPred.slice([0, 0], [-1, 1]).reshape([-1]);
    const s = yPred.slice([0, 1], [-1, 1]).reshape([-1]).clipByValue(LOGVAR_MIN, LOGVAR_MAX);
    return s.add(y.sub(mu).square().mul(s.neg().exp())).mul(0.5).mean() as tf.Scalar;
  });
}

/**
 * Encodes `n` histograms (row-major n×bins, counts) for the network. Returns
 * plain arrays so callers (worker threads, training) build tensors where they run.
 */
export function encodeInputs(histograms: ArrayLike<number>, n: number, bins: number): { x: Float32Array; events: Float32Array } {
  if (histograms.length !== n * bins) throw new RangeError(`histograms: length ${histograms.length} is not n·bins = ${n}·${bins}`);
  const x = new Float32Array(n * bins);
  const events = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let b = 0; b < bins; b++) total += histograms[i * bins + b]!;
    const scale = bins / Math.max(total, 1);
    for (let b = 0; b < bins; b++) x[i * bins + b] = histograms[i * bins + b]! * scale;
    events[i] = Math.log1p(total) / 5;
  }
  return { x, events };
}

/** Runs the network on encoded inputs: g2(0) and its standard deviation per histogram. */
export function predictEncoded(model: tf.LayersModel, x: Float32Array, events: Float32Array, bins: number): { g2: Float32Array; std: Float32Array } {
  const n = events.length;
  const out = tf.tidy(() => {
    const y = model.predict([tf.tensor3d(x, [n, bins, 1]), tf.tensor2d(events, [n, 1])], { batchSize: 256 }) as tf.Tensor2D;
    return y.dataSync() as Float32Array;
  });
  const g2 = new Float32Array(n);
  const std = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    g2[i] = out[2 * i]!;
    std[i] = Math.exp(0.5 * Math.min(LOGVAR_MAX, Math.max(LOGVAR_MIN, out[2 * i + 1]!)));
  }
  return { g2, std };
}

/** Targets in the [n, 2] layout gaussianNll expects (label, unused 0). */
export function targets(labels: Float32Array): Float32Array {
  const t = new Float32Array(labels.length * 2);
  for (let i = 0; i < labels.length; i++) t[2 * i] = labels[i]!;
  return t;
}
