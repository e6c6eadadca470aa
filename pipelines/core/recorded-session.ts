/**
 * What an experiment may read of a recorded session (its exporter, its
 * offline commands): the rows the store keeps and a read-only view of them.
 * The store's SessionReader (daemon/store/reader.ts) implements it; the
 * contract lives here so experiments never import the daemon.
 */
import type { Dtype, Frame } from '../../drivers/core/frame.js';

export interface SessionRow {
  id: string;
  plan: string;
  planVersion: string | null;
  params: Record<string, unknown>;
  config: Record<string, unknown>;
  metadata: Record<string, unknown>;
  softwareVersion: string;
  pipeline: string | null;
  pipelineVersion: string | null;
  tfBackend: string | null;
  modelHashes: Record<string, string> | null;
  instruments: Record<string, string>;
  clock: string;
  source: { replayOf?: string; importedFrom?: string } | null;
  startedAt: string;
  endedAt: string | null;
  durationNs: number | null;
  status: 'running' | 'completed' | 'aborted' | 'failed' | 'interrupted';
  reason: string | null;
}

export interface StreamRow {
  name: string;
  kind: 'instrument' | 'result';
  dtype: Dtype;
  shape: number[];
  unit: string | null;
  count: number;
}

export interface EventRow {
  id: number;
  /** ns since session start */
  t: number;
  type: string;
  source: string | null;
  data: unknown;
}

export type FrameTable = 'frames' | 'results';

/** A read-only recorded session, as the store's SessionReader offers it. */
export interface RecordedSession {
  session(): SessionRow;
  streams(): StreamRow[];
  /** Frames of one table in recording order, optionally of one stream. */
  frames(table: FrameTable, stream?: string): Iterable<Frame>;
  events(type?: string): EventRow[];
}
