/**
 * The acquisition engine: one per rig. It owns the rig's drivers, runs one
 * session at a time (whose instruments it owns), records it through the
 * session store, and exposes what the CLI and the ZeroMQ API need.
 *
 *   const engine = new Engine({clock, drivers, plans, pipelines, store});
 *   const id = await engine.start('antibunching-scan', {dwellMs: 7000});
 *   engine.frames$.subscribe(...);           // live frames + results
 *   const final = await engine.whenEnded(id);  // SessionStatus
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { Subject, type Observable } from 'rxjs';
import type { Clock } from '../../drivers/core/clock.js';
import type { Driver } from '../../drivers/core/driver.js';
import type { Frame } from '../../drivers/core/frame.js';
import type { Pipeline } from '../../pipelines/core/pipeline.js';
import type { StreamRow } from '../../pipelines/core/recorded-session.js';
import { modelHash } from '../../pipelines/core/model-files.js';
import { PipelineRegistry } from '../../pipelines/core/pipeline.js';
import { ParamsError, describeAjvError } from '../../pipelines/core/params.js';
import type { PlanDescription, PlanRegistry } from '../plans/index.js';
import type { SessionStore, SessionSummary } from '../store/store.js';
import type { SessionReader } from '../store/reader.js';
import { SessionFileError } from '../store/db.js';
import type { Plan } from '../../pipelines/core/plan.js';
import type { EngineStatus, InstrumentStatus, SessionEvent, SessionFrame, SessionStatus, StartOptions } from './api.js';
import { EngineError } from './errors.js';
import { SessionRun, describeError, type ReplayHooks } from './session.js';

/** pino-compatible subset. */
export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EngineOptions {
  clock: Clock;
  /** The rig's instruments by id (built from the config by the driver registry). */
  drivers: Map<string, Driver>;
  plans: PlanRegistry;
  pipelines?: PipelineRegistry;
  store: SessionStore;
  /** The full resolved config, stored with every session. */
  config?: Record<string, unknown>;
  softwareVersion?: string;
  log?: EngineLogger;
}

/** Finished sessions whose final status stays in memory (whenEnded works for them); older ones: their files. */
const FINISHED_KEPT = 32;
/** Rows per `sizes()` query of `readFrames` (one short turn of the event loop each). */
const SIZES_PAGE = 1024;

export class Engine {
  readonly clock: Clock;
  private readonly drivers: Map<string, Driver>;
  private readonly plans: PlanRegistry;
  private readonly pipelines: PipelineRegistry;
  readonly store: SessionStore;
  private readonly config: Record<string, unknown>;
  private readonly softwareVersion: string;
  private readonly log: EngineLogger | undefined;
  private current: SessionRun | undefined;
  /** A start() between its checks and `current` being set (it awaits the pipeline factory): a second one is refused. */
  private pendingStart: Promise<string> | undefined;
  /** Set by stop(): no session may start after it. */
  private stopped = false;
  /**
   * Sessions of this process: the running one with its SessionRun; a finished one keeps only its final
   * status (its run, pipeline and recorder are released), and only the last FINISHED_KEPT of those.
   */
  private readonly runs = new Map<string, { run?: SessionRun; done: Promise<SessionStatus>; closed: Promise<void>; final?: SessionStatus }>();
  private readonly framesSubject = new Subject<SessionFrame>();
  private readonly eventsSubject = new Subject<SessionEvent>();
  private readonly ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: false });
  private readonly commandValidators = new Map<string, ValidateFunction>();

  /** Every instrument frame and pipeline result of the running session, as it happens. */
  readonly frames$: Observable<SessionFrame> = this.framesSubject.asObservable();
  /** Session lifecycle notifications (started, progress, paused, …, ended). */
  readonly events$: Observable<SessionEvent> = this.eventsSubject.asObservable();

  constructor(opts: EngineOptions) {
    this.clock = opts.clock;
    this.drivers = opts.drivers;
    this.plans = opts.plans;
    this.pipelines = opts.pipelines ?? new PipelineRegistry();
    this.store = opts.store;
    this.config = opts.config ?? {};
    this.softwareVersion = opts.softwareVersion ?? 'unknown';
    this.log = opts.log;
  }

  // ---------- daemon ----------
  status(): EngineStatus {
    const running = this.current && !this.current.isFinal() ? this.current : undefined;
    return {
      state: running ? 'busy' : 'idle',
      clock: this.clock.kind,
      ...(this.clock.kind === 'real' ? { clockSpeed: 1 } : this.clock.kind === 'scaled' ? { clockSpeed: (this.clock as { speed?: number }).speed ?? 1 } : {}),
      sessionsDir: this.store.dir,
      ...(running ? { session: running.status() } : {}),
      instruments: [...this.drivers.values()].map((d) => ({ id: d.id, kind: d.kind, impl: d.impl, state: d.state, ...this.ownerField(d.id) })),
    };
  }

  // ---------- instruments ----------
  instruments(): InstrumentStatus[] {
    return [...this.drivers.keys()].map((id) => this.describeInstrument(id));
  }

  describeInstrument(id: string): InstrumentStatus {
    return { ...this.driver(id).describe(), ...this.ownerField(id) };
  }

  /** Session id owning instrument `id`, if a session is running. */
  ownerOf(id: string): string | undefined {
    const run = this.current;
    return run && run.owns(id) ? run.sessionId : undefined;
  }

  /**
   * A direct call from a user (API, CLI). Params are validated against the
   * command's schema; a mutating command to an instrument a running session
   * owns is refused with `INSTRUMENT_OWNED`.
   */
  async callInstrument(id: string, command: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const drv = this.driver(id);
    const spec = drv.commands[command];
    if (!spec) throw new EngineError('UNKNOWN_COMMAND', `${id}: unknown command '${command}' (commands: ${Object.keys(drv.commands).join(', ') || 'none'})`);
    const owner = this.ownerOf(id);
    if (owner && spec.mutating) throw new EngineError('INSTRUMENT_OWNED', `${id}: '${command}' refused: instrument is owned by running session ${owner}`);
    const key = `${id}/${command}`;
    let validate = this.commandValidators.get(key);
    if (!validate) {
      validate = this.ajv.compile(spec.params);
      this.commandValidators.set(key, validate);
    }
    const copy = structuredClone(params ?? {});
    if (!validate(copy)) {
      throw new EngineError('BAD_PARAMS', (validate.errors ?? []).map((e) => describeAjvError(e, 'params')).join('; '));
    }
    return drv.call(command, copy);
  }

  // ---------- plans ----------
  listPlans(): PlanDescription[] {
    return this.plans.list();
  }

  describePlan(name: string): PlanDescription {
    if (!this.plans.has(name)) throw new EngineError('UNKNOWN_PLAN', this.plans.unknown(name));
    return this.plans.describe(name);
  }

  // ---------- sessions ----------
  /**
   * Validates `params`, binds the plan's roles to instruments, opens the
   * session file and starts the plan. Resolves with the session id once the
   * session is running (it runs on in the background; see `whenEnded`).
   */
  start(planName: string, params: unknown = {}, opts: StartOptions = {}, replay?: ReplayHooks): Promise<string> {
    if (this.stopped) return Promise.reject(new EngineError('BAD_STATE', 'engine is stopping: no new session may start'));
    // An unknown plan is reported as such, even while a session runs (replays bring their own plan or none).
    if (!replay && !this.plans.has(planName)) return Promise.reject(new EngineError('UNKNOWN_PLAN', this.plans.unknown(planName)));
    if (this.current && !this.current.isFinal()) return Promise.reject(new EngineError('SESSION_RUNNING', `session ${this.current.sessionId} is running; one session per rig`));
    if (this.pendingStart) return Promise.reject(new EngineError('SESSION_RUNNING', 'another session is starting; one session per rig'));
    const starting = this.doStart(planName, params, opts, replay).finally(() => {
      this.pendingStart = undefined;
    });
    this.pendingStart = starting;
    return starting;
  }

  private async doStart(planName: string, params: unknown, opts: StartOptions, replay: ReplayHooks | undefined): Promise<string> {
    const plan = (() => {
      try {
        return this.plans.get(planName);
      } catch (err) {
        throw new EngineError('UNKNOWN_PLAN', describeError(err));
      }
    })();
    let validated: Record<string, unknown>;
    try {
      validated = this.plans.validate(planName, params);
    } catch (err) {
      if (err instanceof ParamsError) throw new EngineError('BAD_PARAMS', err.message, { cause: err });
      throw err;
    }
    const instruments = this.bind(plan.name, plan.roles, opts.instruments ?? {});
    const declared = this.declaredModels(plan, validated);
    const pipelineName = opts.pipeline ?? plan.pipeline?.(validated);
    const id0 = opts.id;
    let pipeline: Pipeline | undefined;
    if (pipelineName !== undefined) {
      let factory;
      try {
        factory = this.pipelines.get(pipelineName);
      } catch (err) {
        throw new EngineError('UNKNOWN_PLAN', describeError(err));
      }
      pipeline = await this.clock.hold(Promise.resolve(factory.create({ clock: this.clock, sessionId: id0 ?? '', planParams: opts.pipelineParams ?? validated, instruments })));
    }
    const startedAt = new Date();
    const desc = pipeline?.describe?.() ?? {};
    const modelHashes = { ...declared.modelHashes, ...desc.modelHashes };
    const tfBackend = desc.tfBackend ?? declared.tfBackend;
    let created;
    try {
      created = this.store.create({
        ...(id0 !== undefined ? { id: id0 } : {}),
        plan: plan.name,
        planVersion: plan.version,
        params: validated,
        config: this.config,
        metadata: { ...(opts.metadata ?? {}) },
        softwareVersion: this.softwareVersion,
        ...(pipeline ? { pipeline: pipeline.name, pipelineVersion: pipeline.version } : {}),
        ...(tfBackend ? { tfBackend } : {}),
        ...(Object.keys(modelHashes).length > 0 ? { modelHashes } : {}),
        instruments,
        clock: this.clock.kind,
        ...(replay ? { source: { replayOf: replay.sourceId } } : {}),
        startedAt,
      });
    } catch (err) {
      throw new EngineError(/disk/.test(describeError(err)) ? 'DISK_SPACE' : 'SESSION_FILE', describeError(err), { cause: err });
    }
    const { id, writer } = created;
    const run: SessionRun = new SessionRun({
      id,
      clock: this.clock,
      plan,
      params: validated,
      instruments,
      drivers: this.drivers,
      pipeline,
      writer,
      startedAt,
      publish: (f) => this.framesSubject.next(f),
      notify: (type, detail) => this.eventsSubject.next({ sessionId: id, type, status: run.status(), ...(detail !== undefined ? { detail } : {}) }),
      ...(replay ? { replay } : {}),
      ...(opts.onFault ? { onFault: opts.onFault } : {}),
    });
    this.current = run;
    this.log?.info({ session: id, plan: plan.name, params: validated, instruments }, 'session started');
    this.eventsSubject.next({ sessionId: id, type: 'started', status: run.status() });
    const entry: { run?: SessionRun; done: Promise<SessionStatus>; closed: Promise<void>; final?: SessionStatus } = { run, done: undefined as never, closed: undefined as never };
    entry.done = run.execute().then(() => {
      const st = run.status();
      // Nothing of a finished session stays behind but its status (a daemon runs for months).
      entry.run = undefined;
      entry.final = st;
      this.forgetOldSessions();
      this.log?.[st.state === 'failed' ? 'warn' : 'info']({ session: id, state: st.state, reason: st.reason }, 'session ended');
      this.eventsSubject.next({ sessionId: id, type: 'ended', status: st });
      return st;
    });
    // The recorder's last checkpoint runs in a worker after the end (decision 0502); its promise exists by then.
    entry.closed = entry.done.then(() => writer.finalCheckpoint).then(
      () => undefined,
      () => undefined,
    );
    this.runs.set(id, entry);
    return id;
  }

  /** Resolves with the final status once session `id` (default: the current one) has ended. */
  whenEnded(id?: string): Promise<SessionStatus> {
    const entry = this.runs.get(id ?? this.current?.sessionId ?? '');
    if (!entry) return Promise.reject(new EngineError('UNKNOWN_SESSION', `session: no session ${id ?? '(none running)'} in this process`));
    return entry.done;
  }

  /**
   * Resolves once session `id` has ended and its file is closed for good (the last WAL checkpoint, done in a
   * worker thread after the end, has finished): nothing writes to the session's folder any more.
   */
  whenClosed(id: string): Promise<void> {
    const entry = this.runs.get(id);
    if (!entry) return Promise.reject(new EngineError('UNKNOWN_SESSION', `session: no session ${id} in this process`));
    return entry.closed;
  }

  pause(id?: string): SessionStatus {
    const run = this.running(id);
    try {
      run.pause();
    } catch (err) {
      throw new EngineError('BAD_STATE', describeError(err));
    }
    return run.status();
  }

  resume(id?: string): SessionStatus {
    const run = this.running(id);
    try {
      run.resume();
    } catch (err) {
      throw new EngineError('BAD_STATE', describeError(err));
    }
    return run.status();
  }

  /** Aborts the running session: instruments left safe, session closed as `aborted`. Resolves with the final status. */
  abort(id?: string, reason = 'aborted by request'): Promise<SessionStatus> {
    const run = this.running(id);
    run.end({ status: 'aborted', reason });
    return this.whenEnded(run.sessionId);
  }

  /** Status of session `id` (live if in this process, else from its file); default: the current session. */
  session(id?: string): SessionStatus {
    const key = id ?? this.current?.sessionId;
    if (key === undefined) throw new EngineError('NO_SESSION', 'no session has run in this process; give a session id');
    const live = this.runs.get(key);
    if (live?.run) return live.run.status();
    if (live?.final) return live.final;
    const r = this.openStored(key);
    try {
      const s = r.session();
      return {
        id: s.id,
        plan: s.plan,
        state: s.status,
        ...(s.reason !== null ? { reason: s.reason } : {}),
        startedAt: s.startedAt,
        ...(s.endedAt ? { endedAt: s.endedAt } : {}),
        elapsedNs: s.durationNs ?? 0,
        progress: { done: 0 },
        frames: r.count('frames'),
        results: r.count('results'),
        recorded: r.count('frames') + r.count('results'),
        instruments: s.instruments,
        ...(s.pipeline ? { pipeline: s.pipeline } : {}),
        ...(s.source?.replayOf ? { replayOf: s.source.replayOf } : {}),
        params: s.params,
      };
    } finally {
      r.close();
    }
  }

  /** Every recorded session in the sessions directory (throws when the folder is missing or unreadable). */
  listSessions(): SessionSummary[] {
    return this.store.list();
  }

  /** `listSessions()` one file per turn of the event loop (the API's path). */
  listSessionsAsync(): Promise<SessionSummary[]> {
    return this.store.listAsync();
  }

  /**
   * The API's `sessions.frames`: like `frames()`, but capped by payload bytes before anything big is read
   * (sizes first, from the record headers, in pages of `sizesPage` rows), and read in chunks of about
   * `chunkBytes` with a turn of the event loop between any two reads, so no turn holds the loop for long
   * (`npm run bench -- loop`). `nextSeq`: where to continue when the reply was cut by `limit` or `maxBytes`.
   * At least one frame is returned when there is one, whatever its size.
   */
  async readFrames(
    id: string,
    stream: string,
    fromSeq: number,
    toSeq: number,
    limit: number,
    maxBytes: number,
    chunkBytes = 2 ** 20,
    sizesPage = SIZES_PAGE,
  ): Promise<{ frames: Frame[]; nextSeq: number | null; headersJson: string }> {
    const r = this.openStored(id);
    try {
      const streams = r.streams();
      const s = streams.find((x) => x.name === stream);
      if (!s) throw new EngineError('UNKNOWN_STREAM', `session ${id}: no stream '${stream}' (streams: ${streams.map((x) => x.name).join(', ') || 'none'})`);
      const table = s.kind === 'instrument' ? 'frames' : 'results';
      const sizes: { seq: number; bytes: number }[] = [];
      for (let from = fromSeq, total = 0; sizes.length <= limit && from <= toSeq; ) {
        if (sizes.length > 0) await new Promise((res) => setImmediate(res));
        const page = r.sizes(table, stream, from, toSeq, Math.min(sizesPage, limit + 1 - sizes.length));
        for (const x of page) {
          sizes.push(x);
          total += x.bytes;
        }
        if (page.length === 0 || (total > maxBytes && sizes.length > 1)) break;
        from = page[page.length - 1]!.seq + 1;
      }
      let n = 0;
      let bytes = 0;
      while (n < sizes.length && n < limit && (n === 0 || bytes + sizes[n]!.bytes <= maxBytes)) bytes += sizes[n++]!.bytes;
      const nextSeq = n < sizes.length ? sizes[n]!.seq : null;
      const frames: Frame[] = [];
      // The headers' JSON a chunk at a time (the API sends it as is): no single stringify of them all.
      const json: string[] = [];
      let i = 0;
      while (i < n) {
        let j = i + 1;
        let chunk = sizes[i]!.bytes;
        while (j < n && chunk + sizes[j]!.bytes <= chunkBytes) chunk += sizes[j++]!.bytes;
        if (i > 0) await new Promise((res) => setImmediate(res));
        const page = r.page(table, stream, sizes[i]!.seq, j - i);
        for (const f of page) frames.push(f);
        if (page.length) json.push(JSON.stringify(page.map((f) => f.header)).slice(1, -1));
        i = j;
      }
      return { frames, nextSeq, headersJson: `[${json.join(',')}]` };
    } finally {
      r.close();
    }
  }

  /**
   * Recorded frames (or results: the stream name tells) of session `id`,
   * `fromSeq..toSeq` inclusive, at most `limit`. Only committed frames are seen.
   */
  frames(id: string, stream: string, fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER, limit = 10_000): Frame[] {
    const r = this.openStored(id);
    try {
      const s = r.streams().find((x) => x.name === stream);
      if (!s) throw new EngineError('UNKNOWN_STREAM', `session ${id}: no stream '${stream}' (streams: ${r.streams().map((x) => x.name).join(', ') || 'none'})`);
      const out: Frame[] = [];
      for (const f of r.frames(s.kind === 'instrument' ? 'frames' : 'results', stream, fromSeq, toSeq)) {
        out.push(f);
        if (out.length >= limit) break;
      }
      return out;
    } finally {
      r.close();
    }
  }

  /** The recorded streams of session `id` (instrument frames and results) with their counts. */
  streams(id: string): StreamRow[] {
    const r = this.openStored(id);
    try {
      return r.streams();
    } finally {
      r.close();
    }
  }

  /** Aborts a running session and waits for it (daemon shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    // A start in flight would otherwise begin a session after the engine stopped.
    await this.pendingStart?.catch(() => undefined);
    const run = this.current;
    if (run && !run.isFinal()) await this.abort(run.sessionId, 'daemon stopping');
    this.framesSubject.complete();
    this.eventsSubject.complete();
  }

  /** Sessions whose SessionRun this engine still references (the running one; diagnostics and leak tests). */
  get liveRuns(): number {
    let n = 0;
    for (const e of this.runs.values()) if (e.run) n++;
    return n;
  }

  // ---------- internals ----------
  /** Keeps the final status of the last FINISHED_KEPT finished sessions; older ones are read from their files. */
  private forgetOldSessions(): void {
    let finished = 0;
    for (const e of this.runs.values()) if (e.final) finished++;
    for (const [id, e] of this.runs) {
      if (finished <= FINISHED_KEPT) break;
      if (!e.final) continue;
      this.runs.delete(id);
      finished--;
    }
  }

  private driver(id: string): Driver {
    const d = this.drivers.get(id);
    if (!d) throw new EngineError('UNKNOWN_INSTRUMENT', `instrument: unknown '${id}' (instruments: ${[...this.drivers.keys()].join(', ') || 'none'})`);
    return d;
  }

  private ownerField(id: string): { owner?: string } {
    const o = this.ownerOf(id);
    return o ? { owner: o } : {};
  }

  private running(id?: string): SessionRun {
    const run = this.current;
    if (!run || run.isFinal()) throw new EngineError('NO_SESSION', 'no session is running');
    if (id !== undefined && id !== run.sessionId) throw new EngineError('UNKNOWN_SESSION', `session ${id} is not the running session (${run.sessionId})`);
    return run;
  }

  /**
   * Hashes of the models the plan declares (it may load them only late in
   * the session) and their tfjs backend(s), for the session metadata.
   */
  private declaredModels(plan: Plan<Record<string, unknown>>, params: Record<string, unknown>): { modelHashes: Record<string, string>; tfBackend?: string } {
    const models = plan.models?.(params) ?? {};
    const modelHashes: Record<string, string> = {};
    const backends = new Set<string>();
    for (const [name, m] of Object.entries(models)) {
      try {
        modelHashes[name] = modelHash(m.dir);
      } catch (err) {
        throw new EngineError('MODEL_FILE', `plan ${plan.name}: model ${name}: ${describeError(err)}`, { cause: err });
      }
      backends.add(m.tfBackend);
    }
    return backends.size > 0 ? { modelHashes, tfBackend: [...backends].sort().join(',') } : { modelHashes };
  }

  private openStored(id: string): SessionReader {
    try {
      return this.store.openId(id);
    } catch (err) {
      if (err instanceof SessionFileError || err instanceof RangeError) throw new EngineError('UNKNOWN_SESSION', describeError(err), { cause: err });
      throw err;
    }
  }

  /** Role → instrument id: explicit choice, else the one instrument of the role's kind. */
  private bind(plan: string, roles: Readonly<Record<string, { kind: string }>>, chosen: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const role of Object.keys(chosen)) if (!(role in roles)) throw new EngineError('BINDING', `instruments.${role}: plan ${plan} has no role '${role}' (roles: ${Object.keys(roles).join(', ')})`);
    for (const [role, { kind }] of Object.entries(roles)) {
      const pick = chosen[role];
      if (pick !== undefined) {
        const d = this.drivers.get(pick);
        if (!d) throw new EngineError('BINDING', `instruments.${role}: unknown instrument '${pick}'`);
        if (d.kind !== kind) throw new EngineError('BINDING', `instruments.${role}: ${pick} is a ${d.kind}, plan ${plan} needs a ${kind}`);
        out[role] = pick;
        continue;
      }
      const matches = [...this.drivers.values()].filter((d) => d.kind === kind);
      if (matches.length === 0) throw new EngineError('BINDING', `plan ${plan}: role '${role}' needs an instrument of kind '${kind}'; the rig has none`);
      if (matches.length > 1) throw new EngineError('BINDING', `plan ${plan}: role '${role}': ${matches.length} instruments of kind '${kind}' (${matches.map((d) => d.id).join(', ')}); choose one with instruments.${role}`);
      out[role] = matches[0]!.id;
    }
    return out;
  }
}
