/** Worker thread of nexus.ts: opens the session read-only and writes the NeXus file (the daemon's event loop stays free). */
import { parentPort, workerData } from 'node:worker_threads';
import { SessionStore } from '../store/store.js';
import { createDefaultExporters } from './export.js';
import { writeNexus } from './nexus-write.js';

const { sessionPath, outFile, version } = workerData as { sessionPath: string; outFile: string; version: string };
try {
  const reader = new SessionStore('.').open(sessionPath, { verify: true });
  try {
    const exporter = (await createDefaultExporters()).get(reader.session().plan);
    parentPort!.postMessage({ ok: true, summary: await writeNexus(reader, outFile, exporter, version) });
  } finally {
    reader.close();
  }
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message, code: (err as { code?: string }).code });
}
