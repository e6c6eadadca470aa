/**
 * Reading a recorded session: its row, streams, frames/results in recording
 * order (or by stream and seq range), events.
 */
import type Database from 'better-sqlite3';
import { assignFields, decodePayload, type Dtype, type Frame, type FrameHeader } from '../../drivers/core/frame.js';
import { SessionFileError } from './db.js';
import type { SessionRow, StreamRow, EventRow, FrameTable, RecordedSession } from '../../pipelines/core/recorded-session.js';

export type { SessionRow, StreamRow, EventRow, FrameTable } from '../../pipelines/core/recorded-session.js';

interface RawFrame {
  name: string;
  seq: number;
  t: number;
  header: string;
  payload: Buffer;
}

/** `what` names the value in the error; a function when building the name costs (once per frame). */
function parse(path: string, what: string | (() => string), text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new SessionFileError(path, `${typeof what === 'function' ? what() : what}: invalid JSON`);
  }
}

export class SessionReader implements RecordedSession {
  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    /** Set when the file says `running`, no writer is alive, and the file could not be marked (read-only media). */
    private readonly interrupted?: string,
  ) {}

  session(): SessionRow {
    const r = this.db.prepare('SELECT * FROM session').get() as Record<string, unknown> | undefined;
    if (!r) throw new SessionFileError(this.path, 'no session row');
    const j = (k: string) => parse(this.path, `session.${k}`, r[k] as string | null);
    return {
      id: r.id as string,
      plan: r.plan as string,
      planVersion: r.plan_version as string | null,
      params: j('params') as Record<string, unknown>,
      config: j('config') as Record<string, unknown>,
      metadata: j('metadata') as Record<string, unknown>,
      softwareVersion: r.software_version as string,
      pipeline: r.pipeline as string | null,
      pipelineVersion: r.pipeline_version as string | null,
      tfBackend: r.tf_backend as string | null,
      modelHashes: j('model_hashes') as Record<string, string> | null,
      instruments: j('instruments') as Record<string, string>,
      clock: r.clock as string,
      source: j('source') as SessionRow['source'],
      startedAt: r.started_at as string,
      endedAt: r.ended_at as string | null,
      durationNs: r.duration_ns as number | null,
      status: this.interrupted && r.status === 'running' ? 'interrupted' : (r.status as SessionRow['status']),
      reason: this.interrupted && r.status === 'running' ? this.interrupted : (r.reason as string | null),
    };
  }

  streams(): StreamRow[] {
    const rows = this.db
      .prepare(
        `SELECT s.name, s.kind, s.dtype, s.shape, s.unit,
           (SELECT COUNT(*) FROM frames f WHERE f.stream_id = s.id) + (SELECT COUNT(*) FROM results r WHERE r.stream_id = s.id) AS count
         FROM streams s ORDER BY s.id`,
      )
      .all() as { name: string; kind: 'instrument' | 'result'; dtype: Dtype; shape: string; unit: string | null; count: number }[];
    return rows.map((r) => ({ ...r, shape: parse(this.path, `streams.${r.name}.shape`, r.shape) as number[] }));
  }

  count(table: FrameTable): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  /** Frames (or results) in recording order, optionally of one stream within [fromSeq, toSeq]. */
  *frames(table: FrameTable = 'frames', stream?: string, fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER): Generator<Frame> {
    const base = `SELECT s.name AS name, f.seq, f.t, f.header, f.payload FROM ${table} f JOIN streams s ON s.id = f.stream_id`;
    const it =
      stream === undefined
        ? this.db.prepare(`${base} ORDER BY f.id`).iterate()
        : this.db.prepare(`${base} WHERE s.name = ? AND f.seq BETWEEN ? AND ? ORDER BY f.seq`).iterate(stream, fromSeq, toSeq);
    for (const raw of it as Iterable<RawFrame>) yield this.decode(raw);
  }

  /**
   * Rows of one stream in seq order as stored, undecoded: the header JSON without stream/seq/t, and the
   * payload bytes (for comparisons that need no decoding).
   */
  *rawFrames(table: FrameTable, stream: string): Generator<{ seq: number; t: number; header: string; payload: Buffer }> {
    const it = this.db
      .prepare(`SELECT f.seq AS seq, f.t AS t, f.header AS header, f.payload AS payload FROM ${table} f JOIN streams s ON s.id = f.stream_id WHERE s.name = ? ORDER BY f.seq`)
      .iterate(stream);
    yield* it as Iterable<{ seq: number; t: number; header: string; payload: Buffer }>;
  }

  /**
   * Seq and payload size of up to `limit` frames of `stream` in [fromSeq, toSeq], in seq order, without reading
   * the payloads (SQLite answers `length()` of a blob from the record header): lets a reader cap a reply by bytes
   * before it reads anything big.
   */
  sizes(table: FrameTable, stream: string, fromSeq: number, toSeq: number, limit: number): { seq: number; bytes: number }[] {
    return this.db
      .prepare(`SELECT f.seq AS seq, length(f.payload) AS bytes FROM ${table} f JOIN streams s ON s.id = f.stream_id WHERE s.name = ? AND f.seq BETWEEN ? AND ? ORDER BY f.seq LIMIT ?`)
      .all(stream, fromSeq, toSeq, limit) as { seq: number; bytes: number }[];
  }

  /** Up to `limit` frames of `stream` with seq ≥ fromSeq, in seq order (paged reads hold no statement open). */
  page(table: FrameTable, stream: string, fromSeq: number, limit: number): Frame[] {
    const rows = this.db
      .prepare(`SELECT s.name AS name, f.seq, f.t, f.header, f.payload FROM ${table} f JOIN streams s ON s.id = f.stream_id WHERE s.name = ? AND f.seq >= ? ORDER BY f.seq LIMIT ?`)
      .all(stream, fromSeq, limit) as RawFrame[];
    return rows.map((r) => this.decode(r));
  }

  /** Up to `limit` frames in recording order with id > afterId, with their ids. */
  pageById(table: FrameTable, afterId: number, limit: number): { id: number; frame: Frame }[] {
    const rows = this.db
      .prepare(`SELECT f.id AS id, s.name AS name, f.seq, f.t, f.header, f.payload FROM ${table} f JOIN streams s ON s.id = f.stream_id WHERE f.id > ? ORDER BY f.id LIMIT ?`)
      .all(afterId, limit) as (RawFrame & { id: number })[];
    return rows.map((r) => ({ id: r.id, frame: this.decode(r) }));
  }

  private decode(r: RawFrame): Frame {
    const rest = parse(this.path, () => `frame ${r.name}#${r.seq}`, r.header) as Omit<FrameHeader, 'stream' | 'seq' | 't'>;
    const header = assignFields({} as FrameHeader, rest);
    header.stream = r.name;
    header.seq = r.seq;
    header.t = r.t;
    return { header, payload: decodePayload(header.dtype, r.payload) };
  }

  events(type?: string): EventRow[] {
    const rows = (type === undefined
      ? this.db.prepare('SELECT id, t, type, source, data FROM events ORDER BY id').all()
      : this.db.prepare('SELECT id, t, type, source, data FROM events WHERE type = ? ORDER BY id').all(type)) as {
      id: number;
      t: number;
      type: string;
      source: string | null;
      data: string | null;
    }[];
    return rows.map((r) => ({ ...r, data: parse(this.path, `event ${r.id}`, r.data) }));
  }

  /** `PRAGMA integrity_check` → 'ok' or the problems. */
  integrity(): string {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
