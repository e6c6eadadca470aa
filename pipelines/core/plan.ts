/**
 * The Plan contract (DESIGN.md, "plans"). Owner: engine & store.
 *
 * A plan describes one acquisition. It declares its parameters as a JSON
 * Schema (types, `unit`, defaults, ranges), the instrument roles it needs, and
 * the pipeline that watches its frames; `run(ctx)` then drives the acquisition
 * *through the context only*. Every `ctx` call is one engine step: the engine
 * checks pause/abort before it, records it (commands, frames, decisions),
 * refuses everyone else's mutating calls to the plan's instruments meanwhile,
 * and on replay substitutes recorded measurements and decisions.
 *
 * A plan never calls a driver directly and never reads wall time, so the same
 * `run` serves live sessions, virtual-clock tests and replays.
 */
import type { Frame } from '../../drivers/core/frame.js';
import type { StopDecision } from './stopping.js';
import type { TfBackendName } from './tf.js';
import type { ParamsSchema } from './params.js';

/** An instrument the plan needs, by role (e.g. `scanner: {kind: 'piezo'}`). */
export interface PlanRole {
  kind: string;
  description?: string;
}

/** A saved tfjs model the plan's pipeline may use (see `Plan.models`). */
export interface PlanModel {
  /** Directory of the saved model: `model.json` and the weight files it lists. */
  dir: string;
  /** tfjs backend the model runs on (pinned: a replay needs the same one for identical results). */
  tfBackend: TfBackendName;
}

export interface Plan<P = Record<string, unknown>> {
  /** Registry name, e.g. `antibunching-scan`. */
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** JSON Schema of the params object; every numeric property carries `unit`. */
  readonly params: ParamsSchema;
  readonly roles: Readonly<Record<string, PlanRole>>;
  /** Pipeline registry name that watches the frames (see pipelines/index.ts); none for a plain recording. */
  pipeline?(params: P): string | undefined;
  /**
   * What a driver fault does: `fail` (default) ends the session as `failed`;
   * `suspend` keeps it open, waits for `resume()` (which reconnects the
   * instrument) and retries the failed step.
   */
  readonly onFault?: 'fail' | 'suspend';
  /**
   * Every model the plan's pipeline may use, by name (e.g. `g2cnn`), even
   * when it is loaded only late in the session: the engine hashes each one
   * at session start and records the hashes and the tfjs backend in the
   * session metadata (replays compare both).
   */
  models?(params: P): Readonly<Record<string, PlanModel>>;
  /** Total of the plan's progress unit (pixels, points, frames), for progress bars. */
  total?(params: P): number;
  /**
   * Estimated experiment time of a run with these params, and of each phase in
   * the order `run` enters them (names as passed to `ctx.phase`). Printed
   * before a run (converted to wall time on the chosen clock) and used for the
   * time remaining until progress gives a better estimate. `upperBound`: the
   * estimate is a maximum (e.g. early stopping usually ends sooner).
   */
  estimate?(params: P): PlanEstimate;
  /** The acquisition. Return normally to complete the session; throw to fail it. */
  run(ctx: PlanContext<P>): Promise<void>;
}

/** Estimated experiment time of a plan run (see `Plan.estimate`). */
export interface PlanEstimate {
  /** ms of experiment time. */
  totalMs: number;
  /** Per phase, in order: ms of experiment time. */
  phases?: { name: string; ms: number }[];
  upperBound?: boolean;
}

/** Options of `PlanContext.phase`. */
export interface PhaseOptions {
  /** Amount of work in the phase (in `unit`), for its own progress. */
  total?: number;
  /** Unit of `total` (pixels, points, histograms); default none. */
  unit?: string;
  /** Expected experiment time of the phase, ms (default: from `Plan.estimate`), until progress gives a better one. */
  estimateMs?: number;
}

export interface AcquireOptions {
  /**
   * Channel name when the command returns bare measurements (the stream
   * becomes `<instrument id>.<channel>`); default: the driver's first channel
   * of access `stream`.
   */
  channel?: string;
  /**
   * Header fields the plan adds to every frame of this acquisition (pixel
   * index, grid point, pulse index): pipelines, exporters and subscribers read
   * them from the header.
   */
  fields?: Record<string, unknown>;
}

/** What a plan can do. Each method is one engine step. */
export interface PlanContext<P = Record<string, unknown>> {
  readonly sessionId: string;
  /** Validated, coerced params with defaults filled in. */
  readonly params: Readonly<P>;
  /** Instrument id bound to each role. */
  readonly instruments: Readonly<Record<string, string>>;
  /** Experiment time since the session started, ms (session clock). */
  now(): number;
  /** Aborted when the session is aborted (for plans that run their own loops of awaits). */
  readonly signal: AbortSignal;
  /** True when this run is a replay of a recorded session. */
  readonly replaying: boolean;

  /** Sends a command (declared in the driver's `commands`) to the instrument of `role`; recorded as an event. */
  call(role: string, command: string, params?: Record<string, unknown>): Promise<unknown>;
  /**
   * Sends an acquiring command whose result is a frame, a measurement
   * (`{payload, shape?, fields?}`) or an array of them. The engine stamps each
   * (`stream`, `seq`, `t`), records it, pushes it into the pipeline and
   * publishes it; the stamped frames are returned.
   */
  acquire(role: string, command: string, params?: Record<string, unknown>, opts?: AcquireOptions): Promise<Frame[]>;
  /** Waits `ms` of experiment time (pause/abort-aware). */
  wait(ms: number): Promise<void>;
  /**
   * Adaptive step: the pipeline's next up to `k` points. Recorded as a
   * decision; on replay the recorded decision is followed and the fresh one
   * compared (a difference is reported, never silently followed).
   */
  nextPoints<T = unknown>(k: number): Promise<T[]>;
  /** The pipeline's stopping rule for `scope`; a `stop` is recorded with its reason. Replayed like nextPoints. */
  shouldStop(scope?: unknown): Promise<StopDecision>;
  /** Reports progress in the plan's unit (`done` of `total(params)`), e.g. pixels finished. */
  progress(done: number, label?: string): void;
  /** Records a plan event (pixel/slice boundaries, masks used): `type` plus JSON data. */
  mark(type: string, data?: unknown): void;
  /**
   * Enters a named phase (`pre-scan`, `calibration`, `raster`, `reconstruction`):
   * recorded as a `phase` event; the session status then shows the phase with
   * its own progress and time remaining (sessions.status, daemon.status, the
   * CLI's progress line, the web view).
   */
  phase(name: string, opts?: PhaseOptions): void;
  /** Work done in the current phase (of its `total`). */
  phaseProgress(done: number): void;
}
