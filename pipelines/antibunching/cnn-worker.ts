/**
 * Worker thread running the g2 CNN (tfjs wasm is synchronous compute: it
 * must not run on the daemon's event loop). Messages: `{id, histograms
 * (Float64Array, n×bins), n}` → `{id, g2, std}` or `{id, error}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as tfType from '@tensorflow/tfjs';
import { loadTf } from '../core/tf.js';
import { loadLayersModel } from '../core/tf-files.js';
import { encodeInputs, predictEncoded } from './cnn.js';

interface Request {
  id: number;
  histograms: Float64Array;
  n: number;
}

const { modelDir, bins } = workerData as { modelDir: string; bins: number };
const ready = (async () => {
  const { backend } = await loadTf({ prefer: 'wasm', log: silentLog() });
  const model: tfType.LayersModel = await loadLayersModel(modelDir);
  return { model, backend };
})();
ready.then(
  ({ backend }) => parentPort!.postMessage({ id: -1, backend }),
  (err: Error) => parentPort!.postMessage({ id: -1, error: err.message }),
);

parentPort!.on('message', async (req: Request) => {
  try {
    const { model } = await ready;
    const { x, events } = encodeInputs(req.histograms, req.n, bins);
    const { g2, std } = predictEncoded(model, x, events, bins);
    parentPort!.postMessage({ id: req.id, g2, std }, [g2.buffer as ArrayBuffer, std.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: (err as Error).message });
  }
});

function silentLog(): never {
  const noop = () => undefined;
  const l = { info: noop, warn: noop, error: noop, debug: noop, child: () => l };
  return l as never;
}
