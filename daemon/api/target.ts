/**
 * `ControlTarget`: the narrow interface the ZeroMQ API needs from the daemon
 * (LAYOUT.md, "Engine API that the ZMQ layer needs"). The engine satisfies it
 * (directly or through a thin adapter in daemon/api/engine-target.ts); tests
 * use an in-memory fake. Methods may return values or promises.
 *
 * Errors: throw an Error whose `code` is one of the names of `ErrorCode`
 * (e.g. `'INSTRUMENT_OWNED'`, `'UNKNOWN_SESSION'`, `'INVALID_PARAMS'`) and,
 * optionally, a JSON-serialisable `data`; a DriverError becomes
 * INSTRUMENT_ERROR; anything else is INTERNAL_ERROR (see errors.ts).
 */
import type { Observable } from 'rxjs';
import type { DriverDescription } from '../../drivers/core/driver.js';
import type { Frame } from '../../drivers/core/frame.js';

type MaybePromise<T> = T | Promise<T>;

export interface DaemonStatus {
  /** qscope version. */
  version: string;
  /** Id of the running (or paused) session, null when idle. */
  running: string | null;
  [field: string]: unknown;
}

/** Plans and sessions carry more fields than these; they pass through to the client as JSON. */
export interface PlanSummary {
  name: string;
  description: string;
}

export interface PlanDescription extends PlanSummary {
  /** JSON Schema of the plan's parameters: types, `unit` keyword, defaults, ranges. */
  schema: object;
}

/** Where a session is in its life; terminal states are completed, aborted, failed. */
export type SessionState = 'starting' | 'running' | 'paused' | 'completed' | 'aborted' | 'failed' | (string & {});

export interface SessionStatus {
  id: string;
  plan: string;
  state: SessionState;
  /** Work done and planned (points, pixels, …) when the plan knows them; feeds progress bars. */
  progress?: { done: number; total?: number; label?: string };
  [field: string]: unknown;
}

/** Optional session metadata given at start. */
export interface SessionMeta {
  sample?: string;
  operator?: string;
  notes?: string;
}

/** A capped read of recorded frames: `nextSeq` is where to continue (null: nothing left in the range). */
export interface FramePage {
  frames: Frame[];
  nextSeq: number | null;
  /**
   * `JSON.stringify(frames.map((f) => f.header))`, when the reader built it a chunk at a time between turns of
   * the event loop (so the reply's one big stringify does not stall it).
   */
  headersJson?: string;
}

/** One recorded stream of a session (`sessions.streams`). */
export interface StreamInfo {
  name: string;
  /** `instrument` frames or pipeline `result`s. */
  kind: 'instrument' | 'result';
  dtype: string;
  shape: number[];
  unit?: string | null;
  /** Frames recorded: seqs 0 … count − 1. */
  count: number;
}

/** One frame or pipeline result of a session, as it happens. */
export interface LiveFrame {
  session: string;
  frame: Frame;
}

export interface ControlTarget {
  status(): MaybePromise<DaemonStatus>;
  listInstruments(): MaybePromise<DriverDescription[]>;
  /** Throws code UNKNOWN_INSTRUMENT. */
  describeInstrument(id: string): MaybePromise<DriverDescription>;
  /**
   * Calls a declared command with params already validated against the
   * command's schema. Throws INSTRUMENT_OWNED while a running session owns
   * the instrument, UNKNOWN_INSTRUMENT / UNKNOWN_COMMAND, or a DriverError.
   */
  callInstrument(id: string, command: string, params: Record<string, unknown>): Promise<unknown>;
  listPlans(): MaybePromise<PlanSummary[]>;
  /** Throws UNKNOWN_PLAN. */
  describePlan(name: string): MaybePromise<PlanDescription>;
  /** Validates params against the plan's schema (INVALID_PARAMS with data.errors), refuses with SESSION_RUNNING. */
  startSession(plan: string, params: Record<string, unknown>, meta?: SessionMeta, opts?: { onFault?: 'fail' | 'suspend' }): Promise<SessionStatus>;
  /** The given session, or the running one when `id` is undefined (NO_RUNNING_SESSION, UNKNOWN_SESSION, INVALID_SESSION_STATE). */
  pauseSession(id?: string): Promise<SessionStatus>;
  resumeSession(id?: string): Promise<SessionStatus>;
  abortSession(id?: string): Promise<SessionStatus>;
  sessionStatus(id?: string): MaybePromise<SessionStatus>;
  /** Every recorded session (summaries: at least `id`). */
  listSessions(): MaybePromise<Array<{ id: string }>>;
  /**
   * Recorded frames of one stream with fromSeq ≤ seq ≤ toSeq, in seq order,
   * from the recording (the source of truth). At most `limit` frames and,
   * beyond the first, at most `maxBytes` of payload — capped while reading,
   * not after (a page says where to continue). Throws UNKNOWN_SESSION / UNKNOWN_STREAM.
   */
  sessionFrames(id: string, stream: string, fromSeq: number, toSeq: number, limit: number, maxBytes?: number): MaybePromise<Frame[] | FramePage>;
  /** The recorded streams of a session with their frame counts (UNKNOWN_SESSION). */
  sessionStreams(id: string): MaybePromise<StreamInfo[]>;
  /** Every frame and pipeline result of the running session, as it happens. */
  readonly frames$: Observable<LiveFrame>;
  /** Status snapshots on every state change and progress step (optional). */
  readonly sessionEvents$?: Observable<SessionStatus>;
}
