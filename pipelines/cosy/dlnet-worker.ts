/** Worker-thread entry of DLNetWorker: loads tfjs (wasm) and the model, answers predict requests. */
import { parentPort, workerData } from 'node:worker_threads';
import { InProcessDLNet } from './dlnet-runner.js';

const port = parentPort!;
try {
  const net = await InProcessDLNet.load((workerData as { modelDir: string }).modelDir);
  port.on('message', async (m: { id: number; inputs: Float64Array[]; masks: Uint8Array[]; n1: number; n2: number }) => {
    try {
      const outputs = await net.predict(m.inputs, m.masks, m.n1, m.n2);
      port.postMessage({ id: m.id, outputs }, outputs.map((o) => o.buffer as ArrayBuffer));
    } catch (err) {
      port.postMessage({ id: m.id, error: (err as Error).message });
    }
  });
  port.postMessage({ ready: net.tf.getBackend() });
} catch (err) {
  port.postMessage({ error: (err as Error).message });
}
