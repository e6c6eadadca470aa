/** Exports a finished demo session next to the session files (images included, via the plan's exporter). */
import { join } from 'node:path';
import { SessionStore } from './store/store.js';
import { createDefaultExporters, exportSession } from './datasets/export.js';

export async function exportDemoSession(sessionsDir: string, sessionId: string): Promise<string> {
  const out = join(sessionsDir, `${sessionId}-export`);
  const reader = new SessionStore(sessionsDir).open(sessionId, { verify: false });
  try {
    exportSession(reader, out, await createDefaultExporters());
  } finally {
    reader.close();
  }
  return out;
}
