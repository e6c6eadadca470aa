/**
 * The engine's public types: what the CLI and the ZeroMQ API see.
 * (Methods: see the Engine class in ./engine.ts.)
 */
import type { DriverDescription, DriverState } from '../../drivers/core/driver.js';
import type { Frame } from '../../drivers/core/frame.js';

/** Live and final states of a session. `running|completed|aborted|failed|interrupted` are also stored. */
export type SessionState = 'running' | 'paused' | 'suspended' | 'completed' | 'aborted' | 'failed' | 'interrupted';

export const FINAL_STATES: ReadonlySet<SessionState> = new Set(['completed', 'aborted', 'failed', 'interrupted']);

export interface SessionMetadata {
  sample?: string;
  operator?: string;
  notes?: string;
}

export interface StartOptions {
  /** Instrument id per plan role when the kind alone is ambiguous (`{scanner: 'piezo1'}`). */
  instruments?: Record<string, string>;
  metadata?: SessionMetadata;
  /** Use this pipeline instead of the plan's own (registry name). */
  pipeline?: string;
  /** The params the pipeline sees as `planParams` (default: the plan's validated params; replays of other plans). */
  pipelineParams?: Record<string, unknown>;
  /** Session id to use (tests, imports); default: a new sortable id. */
  id?: string;
  /**
   * What a driver fault does in this session, overriding the plan's `onFault`:
   * `suspend` keeps the session open until the operator resumes or aborts (decision 1300).
   */
  onFault?: 'fail' | 'suspend';
}

export interface SessionProgress {
  done: number;
  total?: number;
  label?: string;
}

/** The phase a session is in (PlanContext.phase), with its own progress and time remaining. */
export interface PhaseStatus {
  name: string;
  /** 0-based index among the phases entered so far. */
  index: number;
  /** Number of phases the plan's estimate lists, when it lists them. */
  count?: number;
  done: number;
  total?: number;
  unit?: string;
  /** Experiment time spent in the phase, ms. */
  elapsedMs: number;
  /** Expected experiment time of the phase, ms. */
  estimateMs?: number;
  /** Experiment time left in the phase, ms: from its progress rate once it has some, else from its estimate. */
  remainingMs?: number;
}

export interface SessionStatus {
  id: string;
  plan: string;
  state: SessionState;
  /** Why it ended (completed: `plan finished` / the stopping reason; failed: the fault). */
  reason?: string;
  /** UTC ISO-8601. */
  startedAt: string;
  endedAt?: string;
  /** Experiment time since the session started, ns. */
  elapsedNs: number;
  progress: SessionProgress;
  /** The current phase, once the plan has entered one. */
  phase?: PhaseStatus;
  /** The plan's estimate of the whole run (experiment time, ms) and what is left of it. */
  estimate?: { totalMs: number; upperBound?: boolean; remainingMs?: number };
  /** Instrument frames acquired. */
  frames: number;
  /** Pipeline results produced. */
  results: number;
  /** Frames + results whose transaction has committed. */
  recorded: number;
  /** Instrument id per role. */
  instruments: Record<string, string>;
  pipeline?: string;
  /** For a replay: the source session id and the decisions that differed. */
  replayOf?: string;
  mismatches?: number;
  /** The plan's validated parameters. */
  params?: Readonly<Record<string, unknown>>;
}

export interface InstrumentStatus extends DriverDescription {
  /** Session id that owns it, if any. */
  owner?: string;
}

export interface EngineStatus {
  state: 'idle' | 'busy';
  clock: string;
  /** Experiment seconds per wall second: 1 on the real clock, the factor on a scaled one; absent on the virtual clock (as fast as it can). */
  clockSpeed?: number;
  sessionsDir: string;
  session?: SessionStatus;
  instruments: { id: string; kind: string; impl: string; state: DriverState; owner?: string }[];
}

/** One item of the live stream: an instrument frame or a pipeline result of a session. */
export interface SessionFrame {
  sessionId: string;
  /** `frame` for instrument frames, `result` for pipeline outputs. */
  kind: 'frame' | 'result';
  frame: Frame;
}

/** Lifecycle notifications (for the API's status pushes and the CLI's progress bar). */
export interface SessionEvent {
  sessionId: string;
  type: 'started' | 'progress' | 'paused' | 'resumed' | 'suspended' | 'ended' | 'decision' | 'mismatch';
  status: SessionStatus;
  detail?: unknown;
}
