/**
 * Runs a PTU conversion (convert.ts) in a worker thread, so reading a
 * multi-gigabyte recording never blocks the caller's event loop.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { PtuConvertOptions, PtuConvertResult } from './convert.js';

export function convertPtuInWorker(file: string, out: string, options: PtuConvertOptions): Promise<PtuConvertResult> {
  const here = dirname(fileURLToPath(import.meta.url));
  // The worker runs compiled JS; from sources (vitest) use the dist copy.
  const inDist = here.includes(join('dist', 'pipelines'));
  const js = inDist ? join(here, 'convert-worker.js') : join(here, '..', '..', '..', 'dist', 'pipelines', 'antibunching', 'ptu', 'convert-worker.js');
  return new Promise((resolve, reject) => {
    const worker = new Worker(js, { workerData: { file, out, options } });
    let settled = false;
    worker.once('message', (m: { result?: PtuConvertResult; error?: { name: string; message: string; code?: string } }) => {
      settled = true;
      if (m.result) return resolve(m.result);
      const e = m.error!;
      const err = e.name === 'RangeError' ? new RangeError(e.message) : new Error(e.message);
      if (e.code) Object.assign(err, { code: e.code });
      reject(err);
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`ptu worker: exited (code ${code}) before answering`));
    });
  });
}
