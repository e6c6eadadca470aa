/** Worker thread of `qscope convert ptu`: runs convert.ts off the daemon's event loop and posts the result or the error. */
import { parentPort, workerData } from 'node:worker_threads';
import { convertPtu, type PtuConvertOptions } from './convert.js';

const { file, out, options } = workerData as { file: string; out: string; options: PtuConvertOptions };
try {
  parentPort!.postMessage({ result: convertPtu(file, out, options) });
} catch (err) {
  const e = err as Error & { code?: string };
  parentPort!.postMessage({ error: { name: e.name, message: e.message, code: e.code } });
}
