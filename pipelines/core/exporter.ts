/**
 * The exporter contract: each experiment owns the exporter `qscope export`
 * calls for its plan's sessions (DESIGN.md, "Datasets"). The daemon's
 * ExporterRegistry (daemon/datasets/export.ts) collects them.
 */
import type { Manifest } from './manifest.js';
import type { RecordedSession } from './recorded-session.js';

/** A kind-specific exporter: writes its arrays into `dir` and returns what it adds to the manifest. */
export type SessionExporter = (
  reader: RecordedSession,
  dir: string,
) => Partial<Pick<Manifest, 'kind' | 'shape' | 'axes' | 'parameters'>> & { files?: string[] };
