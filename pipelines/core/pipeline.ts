/**
 * The pipeline contract (DESIGN.md, "Pipelines"). Owner: engine & store.
 *
 * A pipeline is an RxJS operator from the session's instrument frames to
 * results, plus, for adaptive acquisitions, the two questions the engine asks
 * it between steps: where to sample next (`nextPoints`) and whether the
 * stopping rule is met (`shouldStop`).
 *
 * The engine stamps every output into a frame `{stream: '<pipeline>.<name>',
 * seq, t, dtype, shape, ...fields, processingLatencyNs}` (seq from 0 per result
 * stream; t = the data time of the output: the `t` of the last frame it was
 * computed from, so it is the same on every clock and on replay;
 * processingLatencyNs = experiment time from that frame to the output's
 * emission, which replay does not compare), records it in the session's
 * `results` table and publishes it on `frames$`. A pipeline never builds
 * headers itself.
 *
 * Ordering guarantee: the engine pushes each acquired frame into the operator
 * synchronously before the plan's next step runs, and asks `nextPoints` /
 * `shouldStop` only after that. A synchronous operator therefore always
 * answers from every frame so far; an operator that works asynchronously
 * (native AsyncWorker, worker thread) must await its own pending work inside
 * `nextPoints` / `shouldStop` / `settle` (the engine wraps those calls in
 * `clock.hold()` so virtual time stands still meanwhile).
 *
 * Determinism: for a given `version`, tfjs backend and model hashes, the same
 * frames in the same order must give bit-identical outputs (replay asserts
 * it). No wall-clock time, no unseeded randomness inside a pipeline.
 */
import type { OperatorFunction } from 'rxjs';
import type { Clock } from '../../drivers/core/clock.js';
import type { Frame, Payload } from '../../drivers/core/frame.js';
import type { StopDecision } from './stopping.js';

export type { StopDecision } from './stopping.js';

/** One result of a pipeline; the engine turns it into the frame `<pipeline>.<name>`. */
export interface PipelineOutput {
  /** Result name, e.g. `image`, `g2zero`, `spectrum`: the stream becomes `<pipeline>.<name>`. */
  name: string;
  payload: Payload;
  /** C-order shape; default `[payload.length]`. */
  shape?: number[];
  /** Kind-specific header fields (JSON-serialisable: pixel index, σ, iteration, …). */
  fields?: Record<string, unknown>;
  /**
   * Data time, ns since the session started: the `t` of the last frame this output was computed from.
   * Default: the `t` of the last frame the operator received before emitting it, which is right for
   * synchronous work; an operator that emits later (worker, AsyncWorker) sets it from its input frame.
   */
  t?: number;
}

export interface PipelineContext {
  /** The session's clock (virtual in tests and replays at `--speed max`). */
  clock: Clock;
  sessionId: string;
  /** The plan's validated parameters (read-only). */
  planParams: Readonly<Record<string, unknown>>;
  /** Instrument id bound to each plan role (e.g. `{scanner: 'piezo0'}`). */
  instruments: Readonly<Record<string, string>>;
}

/** What a pipeline tells the session metadata (for bit-identity checks on replay). */
export interface PipelineDescription {
  /** tfjs backend in use (`wasm`, `cpu`, `tensorflow`), when the pipeline uses tfjs. */
  tfBackend?: string;
  /** Hash of every model file used, by model name (hex sha256). */
  modelHashes?: Record<string, string>;
}

export interface Pipeline {
  /** Stream prefix of the results, e.g. `g2`. */
  readonly name: string;
  /** Bumped whenever outputs can change for the same input. */
  readonly version: string;
  /** Which instrument streams the operator receives (default: all of the session's instrument frames). */
  accepts?(stream: string): boolean;
  /**
   * The operator. Called once per session; keep its state in the closure or
   * in the pipeline object. A throw or an `error` notification fails the
   * session with the reason `pipeline <name>: <message>`.
   */
  operator(): OperatorFunction<Frame, PipelineOutput>;
  /**
   * Adaptive acquisitions: the next up to `k` points to sample, in the order
   * to sample them; an empty array means "nothing left worth sampling". Points
   * are plain JSON (e.g. `{i, j}` grid indices): they are recorded as events
   * and compared on replay.
   */
  nextPoints?(k: number): unknown[] | Promise<unknown[]>;
  /**
   * Stopping rule for a `scope` the plan names (e.g. `{pixel: 17}` for one
   * dwell, `'session'` for the whole acquisition). See ./stopping.ts.
   */
  shouldStop?(scope: unknown): StopDecision | Promise<StopDecision>;
  /** Resolves once every frame pushed so far has produced its outputs (async operators only). */
  settle?(): Promise<void>;
  describe?(): PipelineDescription;
}

/** How a pipeline is registered (pipelines/index.ts) and built per session. */
export interface PipelineFactory {
  /** Registry name (`--pipeline NAME`), usually equal to the created pipeline's `name`. */
  name: string;
  version: string;
  description: string;
  /** Builds a fresh pipeline for one session (or replay). */
  create(ctx: PipelineContext): Pipeline | Promise<Pipeline>;
}

export class PipelineRegistry {
  private readonly factories = new Map<string, PipelineFactory>();

  register(factory: PipelineFactory): this {
    if (this.factories.has(factory.name)) throw new Error(`pipeline '${factory.name}' registered twice`);
    this.factories.set(factory.name, factory);
    return this;
  }

  get(name: string): PipelineFactory {
    const f = this.factories.get(name);
    if (!f) throw new RangeError(`pipeline: unknown '${name}' (known: ${[...this.factories.keys()].join(', ') || 'none'})`);
    return f;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  list(): PipelineFactory[] {
    return [...this.factories.values()];
  }
}
