/**
 * MemoryTarget: an in-memory ControlTarget (one mock instrument, one plan
 * that streams synthetic frames, an in-memory recording). It stands in for
 * the engine in the API's tests and benchmark and lets a client be
 * developed without a rig; it is not an acquisition engine.
 */
import { Subject } from 'rxjs';
import { RealClock } from '../../drivers/core/clock.js';
import { Driver, type DriverDescription } from '../../drivers/core/driver.js';
import { OutOfRangeError } from '../../drivers/core/errors.js';
import { makeFrame, type Frame } from '../../drivers/core/frame.js';
import type { ControlTarget, DaemonStatus, LiveFrame, PlanDescription, PlanSummary, SessionMeta, SessionStatus, StreamInfo } from './target.js';
import { createAjv, describeErrors, fieldErrors } from './validation.js';

function codeError(code: string, message: string, data?: unknown): Error {
  return Object.assign(new Error(message), { code, data });
}

/** A mock scanner: `moveTo` (mutating, range-checked), `where` and `read` (read-only; `read` returns a measurement). */
export class MemoryStage extends Driver {
  readonly kind = 'scanner';
  readonly impl = 'memory';
  position = { x: 0, y: 0 };
  moves = 0;
  reads = 0;
  override readonly channels = [{ name: 'signal', dtype: 'f64' as const, unit: 'counts', access: 'stream' as const }];
  override readonly commands = {
    read: {
      description: 'Reads n values of the signal channel.',
      mutating: false,
      params: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', minimum: 1, maximum: 1 << 20, default: 64 } } },
    },
    moveTo: {
      description: 'Moves to (x, y) in µm.',
      mutating: true,
      params: {
        type: 'object',
        additionalProperties: false,
        required: ['x', 'y'],
        properties: { x: { type: 'number', unit: 'um' }, y: { type: 'number', unit: 'um' } },
      },
    },
    where: { description: 'Current position in µm.', mutating: false, params: { type: 'object', additionalProperties: false } },
  };
  constructor(id: string) {
    super(id, new RealClock());
  }
  protected async doConnect(): Promise<void> {}
  protected async doDisconnect(): Promise<void> {}
  async command_moveTo(p: { x: number; y: number }): Promise<{ x: number; y: number }> {
    this.requireReady('moveTo');
    for (const axis of ['x', 'y'] as const) if (Math.abs(p[axis]) > 100) throw new OutOfRangeError(this.id, axis, p[axis], -100, 100, 'um');
    this.position = { x: p.x, y: p.y };
    this.moves++;
    return this.position;
  }
  async command_read(p: { n?: number }): Promise<{ payload: Float64Array }> {
    const payload = new Float64Array(p.n ?? 64).fill(++this.reads);
    return { payload };
  }
  async command_where(): Promise<{ x: number; y: number }> {
    return this.position;
  }
}

const STREAM_PLAN: PlanDescription & { roles: object; schema: Record<string, unknown> } = {
  name: 'stream',
  description: 'Streams synthetic frames from stage0 (a test plan).',
  roles: { stage: { kind: 'scanner' } },
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      frames: { type: 'integer', minimum: 1, maximum: 10_000_000, default: 100, description: 'frames per stream' },
      streams: { type: 'integer', minimum: 1, maximum: 8, default: 1 },
      values: { type: 'integer', minimum: 1, maximum: 1 << 20, default: 64, description: 'f64 values per frame' },
      chunk: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 16, description: 'frames emitted per macrotask' },
      periodNs: { type: 'integer', minimum: 0, maximum: 1e15, default: 1000000, unit: 'ns' },
      rateHz: { type: 'number', minimum: 0, default: 0, unit: 'Hz', description: 'frames per second per stream in wall time (0: as fast as possible)' },
    },
  },
};

interface MemorySession {
  status: SessionStatus;
  recording: Map<string, Frame[]>;
  paused?: { promise: Promise<void>; resume: () => void };
  abort: boolean;
  done: Promise<SessionStatus>;
}

export class MemoryTarget implements ControlTarget {
  readonly stage = new MemoryStage('stage0');
  readonly frames$ = new Subject<LiveFrame>();
  readonly sessionEvents$ = new Subject<SessionStatus>();
  private readonly sessions = new Map<string, MemorySession>();
  private running: MemorySession | undefined;
  private readonly validatePlan = createAjv({ coerceTypes: true }).compile(STREAM_PLAN.schema);
  private counter = 0;

  async connect(): Promise<void> {
    await this.stage.connect();
  }

  status(): DaemonStatus {
    const { id, kind, impl, state } = this.stage;
    return { version: '0.1.0', running: this.running?.status.id ?? null, instruments: [{ id, kind, impl, state }] };
  }
  listInstruments(): DriverDescription[] {
    return [this.stage.describe()];
  }
  describeInstrument(id: string): DriverDescription {
    if (id !== this.stage.id) throw codeError('UNKNOWN_INSTRUMENT', `no instrument '${id}'`);
    return this.stage.describe();
  }
  async callInstrument(id: string, command: string, params: Record<string, unknown>): Promise<unknown> {
    const spec = this.describeInstrument(id).commands[command];
    if (!spec) throw codeError('UNKNOWN_COMMAND', `${id}: no command '${command}'`);
    if (spec.mutating && this.running) {
      throw codeError('INSTRUMENT_OWNED', `${id} is owned by running session ${this.running.status.id}`, { session: this.running.status.id });
    }
    return this.stage.call(command, params);
  }
  listPlans(): PlanSummary[] {
    return [{ name: STREAM_PLAN.name, description: STREAM_PLAN.description }];
  }
  describePlan(name: string): PlanDescription {
    if (name !== STREAM_PLAN.name) throw codeError('UNKNOWN_PLAN', `no plan '${name}'`);
    return STREAM_PLAN;
  }

  async startSession(plan: string, params: Record<string, unknown>, meta?: SessionMeta): Promise<SessionStatus> {
    this.describePlan(plan);
    if (this.running) throw codeError('SESSION_RUNNING', `session ${this.running.status.id} is running`, { session: this.running.status.id });
    const p = structuredClone(params);
    if (!this.validatePlan(p)) {
      const errors = fieldErrors(this.validatePlan.errors, 'params');
      throw codeError('INVALID_PARAMS', `invalid plan params: ${describeErrors(errors)}`, { errors });
    }
    const id = `m${String(++this.counter).padStart(6, '0')}`;
    const cfg = p as { frames: number; streams: number; values: number; chunk: number; periodNs: number; rateHz: number };
    const s: MemorySession = {
      status: { id, plan, state: 'running', params: p, meta: meta ?? {}, progress: { done: 0, total: cfg.frames * cfg.streams } },
      recording: new Map(),
      abort: false,
      done: undefined as never,
    };
    this.sessions.set(id, s);
    this.running = s;
    this.emitStatus(s);
    s.done = this.run(s, cfg);
    return { ...s.status };
  }

  /** Resolves with the final status when the session ends. */
  whenDone(id: string): Promise<SessionStatus> {
    return this.session(id).done;
  }

  /** Frames recorded for one stream (the recording is the source of truth). */
  recorded(id: string, stream: string): Frame[] {
    return this.session(id).recording.get(stream) ?? [];
  }

  private async run(s: MemorySession, cfg: { frames: number; streams: number; values: number; chunk: number; periodNs: number; rateHz: number }): Promise<SessionStatus> {
    let emitted = 0;
    const t0 = performance.now();
    for (let seq = 0; seq < cfg.frames && !s.abort; seq++) {
      for (let k = 0; k < cfg.streams; k++) {
        const payload = new Float64Array(cfg.values);
        payload.fill(seq + k / 10);
        const frame = makeFrame(`stage0.signal${k}`, seq, seq * cfg.periodNs, payload, [cfg.values], { x: this.stage.position.x });
        const stream = frame.header.stream;
        let rec = s.recording.get(stream);
        if (!rec) s.recording.set(stream, (rec = []));
        rec.push(frame);
        this.frames$.next({ session: s.status.id, frame });
        emitted++;
      }
      s.status.progress = { done: emitted, total: cfg.frames * cfg.streams };
      if ((seq + 1) % cfg.chunk === 0) {
        this.emitStatus(s);
        const ahead = cfg.rateHz > 0 ? t0 + ((seq + 1) / cfg.rateHz) * 1000 - performance.now() : 0;
        await new Promise((res) => (ahead >= 1 ? setTimeout(res, ahead) : setImmediate(res)));
        while (s.paused && !s.abort) await s.paused.promise;
      }
    }
    s.status.state = s.abort ? 'aborted' : 'completed';
    this.running = undefined;
    this.emitStatus(s);
    return { ...s.status };
  }

  private emitStatus(s: MemorySession): void {
    this.sessionEvents$.next({ ...s.status, progress: s.status.progress && { ...s.status.progress } });
  }

  private session(id: string): MemorySession {
    const s = this.sessions.get(id);
    if (!s) throw codeError('UNKNOWN_SESSION', `no session '${id}'`);
    return s;
  }

  private target(id?: string): MemorySession {
    if (id !== undefined) return this.session(id);
    if (!this.running) throw codeError('NO_RUNNING_SESSION', 'no session is running');
    return this.running;
  }

  async pauseSession(id?: string): Promise<SessionStatus> {
    const s = this.target(id);
    if (s.status.state !== 'running') throw codeError('INVALID_SESSION_STATE', `session ${s.status.id} is ${s.status.state}, not running`, { state: s.status.state });
    let resume!: () => void;
    const promise = new Promise<void>((res) => (resume = res));
    s.paused = { promise, resume };
    s.status.state = 'paused';
    this.emitStatus(s);
    return { ...s.status };
  }
  async resumeSession(id?: string): Promise<SessionStatus> {
    const s = this.target(id);
    if (s.status.state !== 'paused') throw codeError('INVALID_SESSION_STATE', `session ${s.status.id} is ${s.status.state}, not paused`, { state: s.status.state });
    const p = s.paused!;
    s.paused = undefined;
    s.status.state = 'running';
    p.resume();
    this.emitStatus(s);
    return { ...s.status };
  }
  async abortSession(id?: string): Promise<SessionStatus> {
    const s = this.target(id);
    if (s.status.state !== 'running' && s.status.state !== 'paused') {
      throw codeError('INVALID_SESSION_STATE', `session ${s.status.id} is ${s.status.state}, not running`, { state: s.status.state });
    }
    s.abort = true;
    s.paused?.resume();
    return s.done;
  }
  sessionStatus(id?: string): SessionStatus {
    return { ...this.target(id).status };
  }
  listSessions(): SessionStatus[] {
    return [...this.sessions.values()].map((s) => ({ ...s.status }));
  }
  sessionStreams(id: string): StreamInfo[] {
    return [...this.session(id).recording].map(([name, frames]) => {
      const h = frames[0]?.header;
      return { name, kind: 'instrument', dtype: String(h?.dtype ?? 'f64'), shape: (h?.shape as number[]) ?? [], count: frames.length };
    });
  }
  sessionFrames(id: string, stream: string, fromSeq: number, toSeq: number, limit: number): Frame[] {
    const rec = this.session(id).recording.get(stream);
    if (!rec) throw codeError('UNKNOWN_STREAM', `session ${id} has no stream '${stream}'`, { streams: [...this.session(id).recording.keys()] });
    // seq equals the index in this recording
    return rec.slice(fromSeq, Math.min(toSeq + 1, fromSeq + limit));
  }
}
