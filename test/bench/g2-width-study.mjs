// Width study for pipelines/antibunching/model/MODEL.md (not a benchmark; `node test/bench/g2-width-study.mjs` after a build):
// same data, seed and epochs for 8/16/32 filters (short runs).
import * as tf from '@tensorflow/tfjs';
import { loadTf } from '../../dist/pipelines/core/tf.js';
import { Rng } from '../../dist/drivers/core/rng.js';
import { buildG2Cnn, encodeInputs, gaussianNll, targets } from '../../dist/pipelines/antibunching/cnn.js';
import { augmentedSamples, heldOutRng, makeSources, trainingRng, windowSamples } from '../../dist/pipelines/antibunching/dataset.js';
import { evaluate } from '../../dist/pipelines/antibunching/train.js';
await loadTf({ prefer: 'wasm', log: { info() {}, child() { return this; } } });
const src = makeSources(trainingRng(7), 2000, { seconds: 40 });
const held = windowSamples(makeSources(heldOutRng(7), 200, { seconds: 10 }), 5, 215);
for (const ch of [8, 16, 32]) {
  const m = buildG2Cnn({ bins: 215, channels: ch, kernel: 4, dense: [2 * ch, ch], dropout: 0.1 }, 7);
  m.compile({ optimizer: tf.train.adam(2e-3), loss: gaussianNll });
  const t0 = Date.now();
  for (let e = 0; e < 4; e++) {
    const s = augmentedSamples(Rng.derive(7, `g2/epoch/${e}`), src, 6000, 1, 10, 215);
    const { x, events } = encodeInputs(s.histograms, s.n, 215);
    const xs = [tf.tensor3d(x, [s.n, 215, 1]), tf.tensor2d(events, [s.n, 1])];
    const ys = tf.tensor2d(targets(s.labels), [s.n, 2]);
    await m.fit(xs, ys, { batchSize: 64, epochs: 1, verbose: 0 });
    tf.dispose([...xs, ys]);
  }
  const ev = evaluate(m, held, 215);
  console.log(JSON.stringify({ channels: ch, dense: [2 * ch, ch], params: m.countParams(), epochs: 4, samplesPerEpoch: 6000, wallS: (Date.now() - t0) / 1000, heldOutNll: +ev.nll.toFixed(4), heldOutRmse5s: +ev.rmse.toFixed(4), coverage1s: +ev.coverage1s.toFixed(3) }));
}
