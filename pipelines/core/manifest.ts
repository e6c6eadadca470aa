/**
 * `manifest.json` of a dataset folder (DESIGN.md, "Datasets"):
 * `{kind, version, shape, axes: [{name, unit, start, step}], parameters}`
 * plus, for folders written by `qscope export`, the `arrays` written and the
 * `session` they came from, which is what `qscope import` reads back.
 */
import type { SessionRow } from './recorded-session.js';

export interface Axis {
  name: string;
  unit: string;
  start: number;
  step: number;
}

/** One axis of one array: its name and unit, and where it is a regular grid, its start and step. */
export interface ArrayAxis {
  name: string;
  unit: string;
  start?: number;
  step?: number;
}

/** One array of a qscope session export. */
export interface ManifestArray {
  /** File name of the .npy, relative to the folder. */
  file: string;
  /** Recorded stream (`hbt0.histogram`, `g2.image`). */
  stream: string;
  /** `instrument` frames or pipeline `result`s. */
  kind: 'instrument' | 'result';
  /**
   * Raw streams (under `raw/`): `frames`: stacked frames, axis 0 = seq; `t`: their times (ns, f64);
   * `single`: one frame per file; `image`: one PNG-encoded frame per `.png` file.
   * At the top: `dataset`: an array of the experiment's dataset kind; `map`: the last value of a 2D result.
   */
  role: 'frames' | 't' | 'single' | 'image' | 'dataset' | 'map';
  dtype: string;
  shape: number[];
  /** Unit of the values. */
  unit?: string;
  /** One entry per dimension (none for `image`). */
  axes?: ArrayAxis[];
  /** What the values are, for people and plots (NeXus `long_name`). */
  longName?: string;
  /** For `single`: the frame's seq. */
  seq?: number;
}

export interface Manifest {
  kind: string;
  version: number;
  shape?: number[];
  axes?: Axis[];
  parameters?: Record<string, unknown>;
  /** Written by qscope export: the arrays and where their header fields are. */
  arrays?: ManifestArray[];
  /** Per-stream JSON file with each frame's header fields (beyond stream/seq/t/dtype/shape). */
  headers?: Record<string, string>;
  /** JSON file holding the session's events. */
  events?: string;
  /** The session row as stored (recorded-session.ts), with the loose types of a file that may come from elsewhere. */
  session?: Omit<SessionRow, 'status' | 'source'> & { status: string; source: Record<string, unknown> | null };
}

export const SESSION_KIND = 'qscope-session';
export const MANIFEST_VERSION = 1;
