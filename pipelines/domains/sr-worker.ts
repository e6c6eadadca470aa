/** Worker-thread entry of SrWorker: tfjs (wasm) and one SR network, answering load/finetune/predict. */
import { parentPort } from 'node:worker_threads';
import { InProcessSr } from './sr-runner.js';

const port = parentPort!;
try {
  const sr = await InProcessSr.create();
  port.on('message', async (m: { id: number; method: 'load' | 'finetune' | 'predict'; args: unknown[] }) => {
    try {
      const fn = sr[m.method] as (...a: unknown[]) => Promise<unknown>;
      const result = await fn.apply(sr, m.args);
      port.postMessage({ id: m.id, result });
    } catch (err) {
      port.postMessage({ id: m.id, error: (err as Error).message });
    }
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ error: (err as Error).message });
}
