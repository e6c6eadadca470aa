/**
 * `qscope export ID --format nexus --out FILE.nxs`: one NeXus/HDF5 file per
 * session (decision 1204), written by nexus-write.ts in a worker thread.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { NexusSummary } from './nexus-write.js';

export type { NexusSummary } from './nexus-write.js';

/** Writes the session file `sessionPath` to `outFile` (refused if it exists) in a worker thread. */
export function exportNexus(sessionPath: string, outFile: string, version: string): Promise<NexusSummary> {
  if (existsSync(outFile)) return Promise.reject(Object.assign(new Error(`--out ${outFile}: file exists`), { code: 'BAD_DATASET' }));
  const here = dirname(fileURLToPath(import.meta.url));
  // The worker runs compiled JS; from sources (vitest) use the dist copy.
  const js = here.includes(join('dist', 'daemon')) ? join(here, 'nexus-worker.js') : join(here, '..', '..', 'dist', 'daemon', 'datasets', 'nexus-worker.js');
  return new Promise((resolve, reject) => {
    const worker = new Worker(js, { workerData: { sessionPath, outFile, version } });
    worker.once('message', (m: { ok: true; summary: NexusSummary } | { ok: false; message: string; code?: string }) => {
      if (m.ok) resolve(m.summary);
      else reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`nexus worker exited with code ${code}`)));
  });
}
