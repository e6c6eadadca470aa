/**
 * One running session: the engine's side of the PlanContext. Every context
 * call is a step: pause/abort are honoured before it, a driver fault inside
 * it fails (or suspends) the session, and what it did goes to the recorder.
 */
import { Subject, type Subscription } from 'rxjs';
import type { Clock } from '../../drivers/core/clock.js';
import type { Driver } from '../../drivers/core/driver.js';
import { DriverError } from '../../drivers/core/errors.js';
import { assignFields, makeFrame, type Frame, type Payload } from '../../drivers/core/frame.js';
import type { Pipeline, PipelineOutput } from '../../pipelines/core/pipeline.js';
import type { StopDecision } from '../../pipelines/core/stopping.js';
import type { AcquireOptions, PhaseOptions, Plan, PlanContext, PlanEstimate } from '../../pipelines/core/plan.js';
import type { SessionWriter } from '../store/writer.js';
import type { PhaseStatus, SessionFrame, SessionState, SessionStatus } from './api.js';
import { SessionAbortedError, isRecordingExhausted } from './errors.js';

/** A decision as recorded in the `events` table (type `decision`). */
export interface RecordedDecision {
  kind: 'nextPoints' | 'shouldStop';
  /** `k` for nextPoints, the scope for shouldStop. */
  arg: unknown;
  value: unknown;
}

/** What a replay supplies to the session that re-runs a recording. */
export interface ReplayHooks {
  /** Source session id. */
  sourceId: string;
  /** The recorded decisions, in order. */
  decisions: RecordedDecision[];
  /** Recorded `t` (ns) of the frame about to be stamped on `stream` (consumed), if known. */
  recordedT(stream: string): number | undefined;
  /** The recorded reply of the next `command` to `instrument` (consumed), if one was recorded. */
  reply?(instrument: string, command: string): { result?: unknown } | undefined;
}

/** JSON of a small reply, or undefined when it is not JSON-serialisable or too large to record. */
function safeJson(x: unknown): string | undefined {
  try {
    const s = JSON.stringify(x);
    return s !== undefined && s.length <= 65536 ? s : undefined;
  } catch {
    return undefined;
  }
}

export interface SessionRunDeps {
  id: string;
  clock: Clock;
  plan: Plan<Record<string, unknown>>;
  params: Record<string, unknown>;
  instruments: Record<string, string>;
  drivers: Map<string, Driver>;
  pipeline: Pipeline | undefined;
  writer: SessionWriter;
  startedAt: Date;
  publish: (f: SessionFrame) => void;
  notify: (type: 'progress' | 'paused' | 'resumed' | 'suspended' | 'decision' | 'mismatch', detail?: unknown) => void;
  replay?: ReplayHooks;
  /** What a driver fault does in this session (default: the plan's `onFault`, else `fail`). */
  onFault?: 'fail' | 'suspend';
}

interface EndRequest {
  status: 'aborted' | 'failed';
  reason: string;
}

type Measured = { payload: Payload; shape?: number[]; fields?: Record<string, unknown> };

/** Minimum wall time between two progress notifications, ms (status() is not free at 20 k frames/s). */
const PROGRESS_NOTICE_MS = 50;

const RESERVED = new Set(['stream', 'seq', 't', 'dtype', 'shape']);

/**
 * Result header field: experiment time (ns) from the data a result was computed from (its `t`) to the
 * moment it was emitted. It varies with the machine on a real clock, so replay does not compare it.
 */
export const PROCESSING_LATENCY_FIELD = 'processingLatencyNs';

function isPayload(x: unknown): x is Payload {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export class SessionRun implements PlanContext<Record<string, unknown>> {
  state: SessionState = 'running';
  reason: string | undefined;
  endedAt: Date | undefined;
  readonly progressInfo: { done: number; total?: number; label?: string } = { done: 0 };
  frameCount = 0;
  resultCount = 0;
  mismatches = 0;
  readonly replaying: boolean;
  private readonly pipelineName: string | undefined;
  private readonly replayOf: string | undefined;

  private readonly ac = new AbortController();
  private endRequest: EndRequest | undefined;
  private resumeGate: { promise: Promise<void>; resolve: () => void } | undefined;
  private t0 = 0;
  private durationNs: number | undefined;
  private readonly seqs = new Map<string, number>();
  private readonly input = new Subject<Frame>();
  private pipelineSub: Subscription | undefined;
  private pipelineDone: Promise<void> = Promise.resolve();
  private stateSubs: Subscription[] = [];
  private decisionIndex = 0;
  private sessionStopReason: string | undefined;
  private suspendedBy: DriverError | undefined;
  private readonly faultsSeen = new WeakSet<DriverError>();
  private lastProgressNotice = -Infinity;
  /** `t` of the last frame pushed into the pipeline: the default data time of its results. */
  private lastInputT = 0;

  /** What a driver fault does: the session's choice, else the plan's, else `fail`. */
  readonly onFault: 'fail' | 'suspend';
  private phaseInfo: { name: string; index: number; done: number; total?: number; unit?: string; startMs: number; estimateMs?: number } | undefined;

  constructor(private readonly d: SessionRunDeps) {
    this.replaying = d.replay !== undefined;
    this.pipelineName = d.pipeline?.name;
    this.replayOf = d.replay?.sourceId;
    this.onFault = d.onFault ?? d.plan.onFault ?? 'fail';
    this.progressInfo.total = d.plan.total?.(d.params);
  }

  // ---- PlanContext ----
  get sessionId(): string {
    return this.d.id;
  }
  get params(): Readonly<Record<string, unknown>> {
    return this.d.params;
  }
  get instruments(): Readonly<Record<string, string>> {
    return this.d.instruments;
  }
  get signal(): AbortSignal {
    return this.ac.signal;
  }
  now(): number {
    return this.d.clock.now() - this.t0;
  }
  /** ns since session start. */
  tNs(): number {
    return Math.round((this.d.clock.now() - this.t0) * 1e6);
  }

  call(role: string, command: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const driver = this.driverOf(role);
    return this.step(async () => {
      this.d.writer.event(this.tNs(), 'command', driver.id, { command, params });
      const fresh = await driver.call(command, params);
      // On replay the recorded reply stands in for the fresh one (read-backs carry noise the replay source does not see).
      const recorded = this.d.replay?.reply?.(driver.id, command);
      const result = recorded && 'result' in recorded ? recorded.result : fresh;
      // One reply event per call keeps replies aligned with calls on replay; `result` only when it is small JSON.
      const json = result === undefined ? undefined : safeJson(result);
      this.d.writer.event(this.tNs(), 'reply', driver.id, json === undefined ? { command } : { command, result: JSON.parse(json) });
      return result;
    });
  }

  acquire(role: string, command: string, params: Record<string, unknown> = {}, opts: AcquireOptions = {}): Promise<Frame[]> {
    const driver = this.driverOf(role);
    return this.step(async () => {
      this.d.writer.event(this.tNs(), 'command', driver.id, { command, params });
      const result = await driver.call(command, params);
      const items = Array.isArray(result) ? result : [result];
      const frames: Frame[] = [];
      for (const item of items) frames.push(await this.stamp(driver, command, item, opts));
      for (const f of frames) this.emitFrame(f);
      if (this.d.writer.full) await this.d.clock.hold(this.d.writer.drained());
      return frames;
    });
  }

  wait(ms: number): Promise<void> {
    if (!(ms >= 0)) return Promise.reject(new RangeError(`wait: ms must be ≥ 0, got ${ms}`));
    return this.step(() => this.d.clock.sleep(ms, this.ac.signal));
  }

  nextPoints<T = unknown>(k: number): Promise<T[]> {
    const p = this.d.pipeline;
    if (!p?.nextPoints) return Promise.reject(new Error(`plan ${this.d.plan.name}: nextPoints needs a pipeline with nextPoints()`));
    return this.step(async () => {
      const fresh = await this.d.clock.hold(Promise.resolve(p.nextPoints!(k)));
      return this.decide('nextPoints', k, fresh) as T[];
    });
  }

  shouldStop(scope: unknown = 'session'): Promise<StopDecision> {
    const p = this.d.pipeline;
    if (!p?.shouldStop) return Promise.resolve({ stop: false, reason: 'no stopping rule' });
    return this.step(async () => {
      const fresh = await this.d.clock.hold(Promise.resolve(p.shouldStop!(scope)));
      const decision = this.decide('shouldStop', scope, fresh) as StopDecision;
      if (decision.stop && scope === 'session') this.sessionStopReason = `stopping rule: ${decision.reason}`;
      return decision;
    });
  }

  progress(done: number, label?: string): void {
    this.progressInfo.done = done;
    if (label !== undefined) this.progressInfo.label = label;
    // Progress is for people (bars, status pushes): at most ~20 notifications per wall second, plus the last one.
    const now = performance.now();
    if (now - this.lastProgressNotice < PROGRESS_NOTICE_MS && done !== this.progressInfo.total) return;
    this.lastProgressNotice = now;
    this.d.notify('progress', { ...this.progressInfo });
  }

  mark(type: string, data?: unknown): void {
    this.d.writer.event(this.tNs(), 'mark', 'plan', { type, data });
  }

  phase(name: string, opts: PhaseOptions = {}): void {
    const planned = this.estimate?.phases?.find((p) => p.name === name)?.ms;
    const estimateMs = opts.estimateMs ?? planned;
    this.phaseInfo = {
      name,
      index: this.phaseInfo ? this.phaseInfo.index + 1 : 0,
      done: 0,
      ...(opts.total !== undefined ? { total: opts.total } : {}),
      ...(opts.unit !== undefined ? { unit: opts.unit } : {}),
      startMs: this.now(),
      ...(estimateMs !== undefined ? { estimateMs } : {}),
    };
    this.d.writer.event(this.tNs(), 'phase', 'plan', { name, ...opts, ...(estimateMs !== undefined ? { estimateMs } : {}) });
    this.lastProgressNotice = -Infinity;
    this.d.notify('progress', { ...this.progressInfo, phase: name });
  }

  phaseProgress(done: number): void {
    if (!this.phaseInfo) throw new Error(`plan ${this.d.plan.name}: phaseProgress before any phase()`);
    this.phaseInfo.done = done;
    const now = performance.now();
    if (now - this.lastProgressNotice < PROGRESS_NOTICE_MS && done !== this.phaseInfo.total) return;
    this.lastProgressNotice = now;
    this.d.notify('progress', { ...this.progressInfo, phase: this.phaseInfo.name });
  }

  /** The plan's estimate for these params (computed once). */
  private get estimate(): PlanEstimate | undefined {
    if (this.estimateCache === null) {
      try {
        this.estimateCache = this.d.plan.estimate?.(this.d.params);
      } catch {
        this.estimateCache = undefined;
      }
    }
    return this.estimateCache;
  }
  private estimateCache: PlanEstimate | undefined | null = null;

  private phaseStatus(): PhaseStatus | undefined {
    const ph = this.phaseInfo;
    if (!ph) return undefined;
    const elapsedMs = this.now() - ph.startMs;
    let remainingMs: number | undefined;
    if (ph.total !== undefined && ph.done > 0) remainingMs = (elapsedMs * Math.max(0, ph.total - ph.done)) / ph.done;
    else if (ph.estimateMs !== undefined) remainingMs = Math.max(0, ph.estimateMs - elapsedMs);
    const count = this.estimate?.phases?.length;
    return {
      name: ph.name,
      index: ph.index,
      ...(count ? { count } : {}),
      done: ph.done,
      ...(ph.total !== undefined ? { total: ph.total } : {}),
      ...(ph.unit !== undefined ? { unit: ph.unit } : {}),
      elapsedMs,
      ...(ph.estimateMs !== undefined ? { estimateMs: ph.estimateMs } : {}),
      ...(remainingMs !== undefined ? { remainingMs } : {}),
    };
  }

  /** The whole run: the estimate, and what is left (this phase's remaining + the later phases' estimates). */
  private estimateStatus(phase: PhaseStatus | undefined): SessionStatus['estimate'] {
    const e = this.estimate;
    if (!e) return undefined;
    let remainingMs: number | undefined;
    if (this.isFinal()) remainingMs = 0;
    else if (phase && e.phases) {
      const i = e.phases.findIndex((p) => p.name === phase.name);
      if (i >= 0 && phase.remainingMs !== undefined) remainingMs = phase.remainingMs + e.phases.slice(i + 1).reduce((a, p) => a + p.ms, 0);
    } else if (!phase) remainingMs = Math.max(0, e.totalMs - this.now());
    return { totalMs: e.totalMs, ...(e.upperBound ? { upperBound: true } : {}), ...(remainingMs !== undefined ? { remainingMs } : {}) };
  }

  // ---- engine side ----
  owns(instrumentId: string): boolean {
    return !this.isFinal() && Object.values(this.d.instruments).includes(instrumentId);
  }

  isFinal(): boolean {
    return this.state === 'completed' || this.state === 'aborted' || this.state === 'failed' || this.state === 'interrupted';
  }

  status(): SessionStatus {
    return {
      id: this.d.id,
      plan: this.d.plan.name,
      state: this.state,
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
      startedAt: this.d.startedAt.toISOString(),
      ...(this.endedAt ? { endedAt: this.endedAt.toISOString() } : {}),
      elapsedNs: this.durationNs ?? this.tNs(),
      progress: { ...this.progressInfo },
      ...(() => {
        const phase = this.phaseStatus();
        const estimate = this.estimateStatus(phase);
        return { ...(phase ? { phase } : {}), ...(estimate ? { estimate } : {}) };
      })(),
      frames: this.frameCount,
      results: this.resultCount,
      recorded: this.d.writer.committed.frames + this.d.writer.committed.results,
      instruments: { ...this.d.instruments },
      ...(this.pipelineName !== undefined ? { pipeline: this.pipelineName } : {}),
      ...(this.replayOf !== undefined ? { replayOf: this.replayOf, mismatches: this.mismatches } : {}),
      params: this.d.params,
    };
  }

  pause(): void {
    if (this.state !== 'running') throw new Error(`session ${this.d.id} is ${this.state}, not running`);
    this.state = 'paused';
    this.openGate();
    this.d.writer.event(this.tNs(), 'pause', 'engine');
    this.d.notify('paused');
  }

  resume(): void {
    if (this.state !== 'paused' && this.state !== 'suspended') throw new Error(`session ${this.d.id} is ${this.state}, not paused or suspended`);
    this.state = 'running';
    this.d.writer.event(this.tNs(), 'resume', 'engine');
    this.d.notify('resumed');
    const g = this.resumeGate;
    this.resumeGate = undefined;
    g?.resolve();
  }

  /** Ends the session early; a pending step is interrupted. */
  end(req: EndRequest): void {
    if (this.isFinal() || this.endRequest) return;
    this.endRequest = req;
    this.d.writer.event(this.tNs(), req.status === 'aborted' ? 'abort' : 'fail', 'engine', { reason: req.reason });
    const reason = new SessionAbortedError(req.reason);
    this.ac.abort(reason);
    for (const reject of this.abortWaiters) reject(reason);
    this.abortWaiters.clear();
    const g = this.resumeGate;
    this.resumeGate = undefined;
    g?.resolve();
  }

  /** Runs the plan to its end; never rejects. */
  async execute(): Promise<void> {
    this.t0 = this.d.clock.now();
    const w = this.d.writer;
    w.onFatal = (err) => this.end({ status: 'failed', reason: err.message });
    w.event(0, 'start', 'engine', { plan: this.d.plan.name, params: this.d.params, instruments: this.d.instruments, onFault: this.onFault });
    for (const id of new Set(Object.values(this.d.instruments))) {
      const drv = this.d.drivers.get(id)!;
      this.stateSubs.push(
        drv.state$.subscribe((s) => {
          if (this.isFinal()) return;
          w.event(this.tNs(), 'state', id, { state: s, ...(s === 'fault' && drv.lastFault ? { code: drv.lastFault.code, message: drv.lastFault.message } : {}) });
          // Any owned instrument that faults, inside a step or not (an unplug while another instrument works),
          // suspends a suspend-on-fault session at once: the next step waits for the operator (decision 1300).
          if (s === 'fault' && this.onFault === 'suspend' && !this.replaying) {
            this.suspendFor(drv.lastFault ?? new DriverError('DISCONNECTED', id, 'instrument fault'));
          }
        }),
      );
    }
    this.startPipeline();
    let status: 'completed' | 'aborted' | 'failed';
    let reason: string;
    try {
      for (const id of new Set(Object.values(this.d.instruments))) {
        const drv = this.d.drivers.get(id)!;
        if (drv.state !== 'ready' && drv.state !== 'busy') await this.step(() => drv.connect());
      }
      await this.d.plan.run(this);
      this.gateCheck();
      this.input.complete();
      await this.d.clock.hold(this.pipelineDone);
      this.gateCheck();
      status = 'completed';
      reason = this.sessionStopReason ?? 'plan finished';
    } catch (err) {
      if (this.endRequest) {
        ({ status, reason } = this.endRequest);
      } else if (this.replaying && isRecordingExhausted(err)) {
        // The original session ended here (aborted, failed or stopped): so does its replay.
        this.input.complete();
        await this.d.clock.hold(this.pipelineDone).catch(() => undefined);
        status = this.endRequest ? (this.endRequest as EndRequest).status : 'completed';
        reason = this.endRequest ? (this.endRequest as EndRequest).reason : 'end of recording';
      } else {
        status = 'failed';
        reason = err instanceof DriverError ? `fault: ${err.message}` : `plan ${this.d.plan.name}: ${describeError(err)}`;
        w.event(this.tNs(), 'fault', err instanceof DriverError ? err.driverId : 'plan', { code: (err as { code?: string }).code, message: describeError(err) });
      }
    }
    if (status !== 'completed') await this.safeState();
    this.durationNs = this.tNs();
    this.pipelineSub?.unsubscribe();
    for (const s of this.stateSubs) s.unsubscribe();
    this.state = status;
    this.reason = reason;
    this.endedAt = new Date();
    try {
      w.event(this.durationNs, 'end', 'engine', { status, reason });
      // Let the queue drain on the usual time-bounded turns, so closing the session does not stall the loop.
      await this.d.clock.hold(w.flushed());
      w.finish({ status, reason, durationNs: this.durationNs }, this.endedAt);
    } catch (err) {
      this.state = 'failed';
      this.reason = `${reason}; recording could not be closed: ${describeError(err)}`;
    }
    this.release();
  }

  /** True while this run references its pipeline (until the session has ended). */
  get holdsPipeline(): boolean {
    return this.d.pipeline !== undefined;
  }

  /** Drops what only a running session needs (the pipeline and its data, subscriptions, replay state). */
  private release(): void {
    this.pipelineSub = undefined;
    this.stateSubs = [];
    this.d.pipeline = undefined;
    delete this.d.replay;
    this.seqs.clear();
  }

  // ---- internals ----
  private driverOf(role: string): Driver {
    const id = this.d.instruments[role];
    if (id === undefined) throw new RangeError(`plan ${this.d.plan.name}: unknown role '${role}' (roles: ${Object.keys(this.d.instruments).join(', ')})`);
    return this.d.drivers.get(id)!;
  }

  private openGate(): void {
    if (this.resumeGate) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.resumeGate = { promise, resolve };
  }

  private gateCheck(): void {
    if (this.endRequest) throw new SessionAbortedError(this.endRequest.reason);
  }

  private async gate(): Promise<void> {
    this.gateCheck();
    for (;;) {
      if (this.resumeGate) await this.resumeGate.promise;
      else if (this.suspendedBy) await this.recover();
      else return;
      this.gateCheck();
    }
  }

  /** Pending steps' rejecters: cheaper than an AbortSignal listener per step on the hot path. */
  private readonly abortWaiters = new Set<(reason: unknown) => void>();

  private raceAbort<T>(p: Promise<T>): Promise<T> {
    if (this.ac.signal.aborted) {
      p.catch(() => undefined);
      return Promise.reject(this.ac.signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      this.abortWaiters.add(reject);
      p.then(
        (v) => {
          this.abortWaiters.delete(reject);
          resolve(v);
        },
        (e) => {
          this.abortWaiters.delete(reject);
          reject(e);
        },
      );
    });
  }

  private async step<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      if (this.endRequest || this.resumeGate || this.suspendedBy) await this.gate();
      try {
        return await this.raceAbort(fn());
      } catch (err) {
        if (this.endRequest) throw new SessionAbortedError(this.endRequest.reason);
        if (err instanceof DriverError && this.onFault === 'suspend') {
          // The instrument's own fault event may have suspended the session already; one suspension per fault.
          this.suspendFor(err);
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * Suspends the session on a driver fault (once: a second fault while
   * suspended keeps the first reason): recorded as a `suspend` event with the
   * fault, announced, and the gate closed until the operator resumes or aborts.
   */
  private suspendFor(err: DriverError): void {
    // A fault reaches here twice (the driver's state$ and the failing step's rejection, in either order,
    // maybe with the operator's resume between them): it suspends once.
    if (this.isFinal() || this.endRequest || this.state === 'suspended' || this.faultsSeen.has(err)) return;
    this.faultsSeen.add(err);
    this.suspendedBy = err;
    this.state = 'suspended';
    this.reason = `suspended: ${err.message}`;
    this.d.writer.event(this.tNs(), 'suspend', err.driverId, { code: err.code, message: err.message });
    this.d.notify('suspended', { code: err.code, message: err.message, instrument: err.driverId });
    this.openGate();
  }

  /**
   * After the operator's resume: reconnects every owned instrument that is
   * not ready (its adapter reads the state back and verifies it on connect);
   * if one cannot be brought back the session suspends again with that reason.
   * The step that failed is then retried: that is the operator's explicit
   * decision, never the adapter's (an adapter never re-sends by itself).
   */
  private async recover(): Promise<void> {
    const cause = this.suspendedBy!;
    this.suspendedBy = undefined;
    this.reason = undefined;
    try {
      for (const id of new Set(Object.values(this.d.instruments))) {
        const drv = this.d.drivers.get(id)!;
        if (drv.state === 'fault' || drv.state === 'disconnected' || drv.state === 'connecting') {
          this.d.writer.event(this.tNs(), 'reconnect', id);
          await this.raceAbort(drv.connect());
        }
      }
    } catch (e) {
      if (this.endRequest) throw new SessionAbortedError(this.endRequest.reason);
      this.suspendFor(e instanceof DriverError ? e : new DriverError('DISCONNECTED', cause.driverId, describeError(e)));
    }
  }

  private async stamp(driver: Driver, command: string, item: unknown, opts: AcquireOptions): Promise<Frame> {
    let stream: string;
    let m: Measured;
    const asObj = item as Record<string, unknown> | null;
    if (asObj && typeof asObj === 'object' && 'header' in asObj && 'payload' in asObj && isPayload(asObj.payload)) {
      const h = asObj.header as Record<string, unknown>;
      stream = String(h.stream);
      const fields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(h)) if (!RESERVED.has(k)) fields[k] = v;
      m = { payload: asObj.payload, shape: h.shape as number[] | undefined, fields };
    } else if (asObj && typeof asObj === 'object' && isPayload(asObj.payload)) {
      const channel = opts.channel ?? driver.channels.find((c) => c.access === 'stream')?.name;
      if (!channel) throw new Error(`acquire ${driver.id}.${command}: returned a measurement but no channel is named and the driver declares no stream channel`);
      stream = `${driver.id}.${channel}`;
      m = asObj as Measured;
    } else {
      throw new Error(`acquire ${driver.id}.${command}: result is not a frame or a measurement`);
    }
    let t = this.tNs();
    const rec = this.d.replay?.recordedT(stream);
    if (rec !== undefined) {
      // Reproduce the recorded timing (pauses included), then stamp the recorded time.
      if (rec > t) await this.d.clock.sleep((rec - t) / 1e6, this.ac.signal);
      t = rec;
    }
    const seq = this.seqs.get(stream) ?? 0;
    this.seqs.set(stream, seq + 1);
    return makeFrame(stream, seq, t, m.payload, m.shape ?? [m.payload.length], opts.fields ? assignFields(assignFields({}, m.fields ?? {}), opts.fields) : (m.fields ?? {}));
  }

  private emitFrame(f: Frame): void {
    this.frameCount++;
    this.d.writer.append(f, 'instrument');
    this.d.publish({ sessionId: this.d.id, kind: 'frame', frame: f });
    const p = this.d.pipeline;
    if (p && (!p.accepts || p.accepts(f.header.stream))) {
      this.lastInputT = f.header.t;
      this.input.next(f);
    }
  }

  private startPipeline(): void {
    const p = this.d.pipeline;
    if (!p) return;
    let op;
    try {
      op = p.operator();
    } catch (err) {
      this.end({ status: 'failed', reason: `pipeline ${p.name}: ${describeError(err)}` });
      return;
    }
    this.pipelineDone = new Promise<void>((resolve) => {
      this.pipelineSub = this.input.pipe(op).subscribe({
        next: (out) => this.emitResult(p, out),
        error: (err) => {
          this.end({ status: 'failed', reason: `pipeline ${p.name}: ${describeError(err)}` });
          resolve();
        },
        complete: () => resolve(),
      });
    });
  }

  private emitResult(p: Pipeline, out: PipelineOutput): void {
    if (this.isFinal()) return;
    const stream = `${p.name}.${out.name}`;
    const seq = this.seqs.get(stream) ?? 0;
    this.seqs.set(stream, seq + 1);
    let f: Frame;
    try {
      const t = out.t ?? this.lastInputT;
      if (!Number.isInteger(t) || t < 0) throw new RangeError(`t: must be integer ns ≥ 0, got ${t}`);
      const fields: Record<string, unknown> = assignFields({}, out.fields ?? {});
      fields[PROCESSING_LATENCY_FIELD] = Math.max(0, this.tNs() - t);
      f = makeFrame(stream, seq, t, out.payload, out.shape ?? [out.payload.length], fields);
    } catch (err) {
      this.end({ status: 'failed', reason: `pipeline ${p.name}: result ${out.name}: ${describeError(err)}` });
      return;
    }
    this.resultCount++;
    this.d.writer.append(f, 'result');
    this.d.publish({ sessionId: this.d.id, kind: 'result', frame: f });
  }

  private decide(kind: RecordedDecision['kind'], arg: unknown, fresh: unknown): unknown {
    let value = fresh;
    const replay = this.d.replay;
    if (replay) {
      const rec = replay.decisions[this.decisionIndex++];
      const same = rec !== undefined && rec.kind === kind && JSON.stringify(rec.arg) === JSON.stringify(arg) && JSON.stringify(rec.value) === JSON.stringify(fresh);
      if (!same) {
        this.mismatches++;
        const detail = { kind, arg, recorded: rec ?? null, fresh };
        this.d.writer.event(this.tNs(), 'mismatch', 'replay', detail);
        this.d.notify('mismatch', detail);
      }
      // Follow the recording so the replayed measurements line up; the difference is reported above.
      if (rec !== undefined && rec.kind === kind) value = rec.value;
    }
    this.d.writer.event(this.tNs(), 'decision', this.d.pipeline?.name ?? null, { kind, arg, value });
    this.d.notify('decision', { kind, arg, value });
    return value;
  }

  /** Leaves every owned instrument safe (drivers that define `safeState()`), bounded in experiment time. */
  private async safeState(): Promise<void> {
    for (const id of new Set(Object.values(this.d.instruments))) {
      const drv = this.d.drivers.get(id) as Driver & { safeState?: () => Promise<void> };
      if (typeof drv.safeState !== 'function' || drv.state === 'disconnected') continue;
      const ac = new AbortController();
      try {
        const timeout = this.d.clock.sleep(5000, ac.signal).then(() => {
          throw new Error('safeState timed out after 5 s');
        });
        timeout.catch(() => undefined);
        await Promise.race([drv.safeState(), timeout]);
        this.d.writer.event(this.tNs(), 'safe', id);
      } catch (err) {
        this.d.writer.event(this.tNs(), 'fault', id, { message: `safe state: ${describeError(err)}` });
      } finally {
        ac.abort();
      }
    }
  }
}
