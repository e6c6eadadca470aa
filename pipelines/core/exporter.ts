/**
 * The exporter contract: each experiment owns the exporter `qscope export`
 * calls for its plan's sessions (DESIGN.md, "Datasets"). The daemon's
 * ExporterRegistry (daemon/datasets/export.ts) collects them.
 */
import type { ArrayAxis, Manifest, ManifestArray } from './manifest.js';
import type { RecordedSession } from './recorded-session.js';

/** A kind-specific exporter: writes its arrays into `dir` and returns what it adds to the manifest. */
export type SessionExporter = (
  reader: RecordedSession,
  dir: string,
) => Partial<Pick<Manifest, 'kind' | 'shape' | 'axes' | 'parameters'>> & {
  /** Every file written (relative to `dir`). */
  files?: string[];
  /** The dataset arrays written, described (role `dataset`, with `axes`, `unit`, `longName`); the generic part lists them in the manifest. */
  arrays?: Omit<ManifestArray, 'stream' | 'kind'>[];
  /** Axes and unit of the experiment's 2D result maps (e.g. `[y, x]` in nm), by result name (`G2`) or `*` for all. */
  mapAxes?: Record<string, { axes: ArrayAxis[]; unit?: string; longName?: string; fftshift?: boolean }>;
};
