/**
 * The qscope client (`import { QscopeClient } from 'qscope/client'`): typed
 * calls over the control socket and live data from the data socket, with
 * per-stream sequence-gap counting and optional backfill of missed frames
 * from the recording (`sessions.frames`). docs/PROTOCOL.md describes the wire.
 */
import { Subject, type Observable } from 'rxjs';
import { Dealer, Subscriber } from 'zeromq';
import type { DriverDescription } from '../../drivers/core/driver.js';
import { decodePayload, type Frame, type FrameHeader, type Payload } from '../../drivers/core/frame.js';
import { DEFAULT_CONTROL, DEFAULT_DATA, ErrorCode, parseTopic, STATUS_STREAM, type RpcError } from './protocol.js';
import { SendQueue } from './send-queue.js';
import type { DaemonStatus, PlanDescription, PlanSummary, SessionMeta, SessionStatus } from './target.js';

export { ErrorCode, DEFAULT_CONTROL, DEFAULT_DATA, dataTopic, parseTopic, STATUS_STREAM } from './protocol.js';
export type { RpcError, RequestId } from './protocol.js';
export type { DaemonStatus, PlanDescription, PlanSummary, SessionMeta, SessionStatus } from './target.js';
export type { Frame, FrameHeader, Payload } from '../../drivers/core/frame.js';
export type { DriverDescription } from '../../drivers/core/driver.js';

/** Client-side CURVE keys (Z85): the daemon's public key and this client's pair (on the daemon's allow-list). */
export interface ClientCurve {
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

export interface ClientOptions {
  /** Control endpoint [tcp://127.0.0.1:5555]. */
  control?: string;
  /** Data endpoint [tcp://127.0.0.1:5556]. */
  data?: string;
  curve?: ClientCurve;
  /** Per-request timeout, ms [10000]. */
  timeoutMs?: number;
}

/** Result of `sessions.frames`. */
export interface FramesResult {
  session: string;
  stream: string;
  frames: Frame[];
  nextSeq: number | null;
}

/** Params and results of every control method. */
export interface ApiMethods {
  'daemon.status': { params: Record<string, never>; result: DaemonStatus };
  'instruments.list': { params: Record<string, never>; result: DriverDescription[] };
  'instruments.describe': { params: { id: string }; result: DriverDescription };
  'instruments.call': { params: { id: string; command: string; params?: Record<string, unknown> }; result: unknown };
  'plans.list': { params: Record<string, never>; result: PlanSummary[] };
  'plans.describe': { params: { name: string }; result: PlanDescription };
  'sessions.start': { params: { plan: string; params?: Record<string, unknown>; meta?: SessionMeta; onFault?: 'fail' | 'suspend' }; result: SessionStatus };
  'sessions.pause': { params: { id?: string }; result: SessionStatus };
  'sessions.resume': { params: { id?: string }; result: SessionStatus };
  'sessions.abort': { params: { id?: string }; result: SessionStatus };
  'sessions.status': { params: { id?: string }; result: SessionStatus };
  'sessions.list': { params: Record<string, never>; result: Array<{ id: string; [field: string]: unknown }> };
  'sessions.frames': { params: { id?: string; stream: string; fromSeq: number; toSeq: number; limit?: number }; result: FramesResult };
}
export type ApiMethod = keyof ApiMethods;

/** A control call answered with an error: `code` is one of ErrorCode. */
export class RpcCallError extends Error {
  override readonly name = 'RpcCallError';
  readonly code: number;
  readonly data: unknown;
  constructor(
    readonly method: string,
    error: RpcError,
  ) {
    super(`${method}: ${error.message} (code ${error.code})`);
    this.code = error.code;
    this.data = error.data;
  }
}

/** A control call that got no reply in time. */
/** The longest one send to the daemon may block while no daemon is connected, ms. */
const SEND_ATTEMPT_MS = 100;

export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method}: no reply within ${timeoutMs} ms (is the daemon running, and are the address and keys right?)`);
  }
}

interface Pending {
  method: string;
  resolve: (v: { reply: Record<string, unknown>; parts: Buffer[] }) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class QscopeClient {
  readonly control: string;
  readonly data: string;
  private readonly dealer: Dealer;
  private readonly sends: SendQueue;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly timeoutMs: number;
  private readonly sendAttemptMs: number;
  private readonly loop: Promise<void>;
  private readonly lives = new Set<LiveData>();

  constructor(private readonly opts: ClientOptions = {}) {
    this.control = opts.control ?? DEFAULT_CONTROL;
    this.data = opts.data ?? DEFAULT_DATA;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    // `immediate`: queue requests only to a connected daemon, so a request made while it is down waits in
    // our queue (and is dropped there when it times out) instead of in libzmq, from where it would reach
    // a daemon started minutes later (a late `instruments.call` moving a stage is a hazard).
    // One send attempt blocks at most SEND_ATTEMPT_MS; a request is tried again while its deadline leaves room
    // for a whole attempt (SendQueue's `mayWait`), so it never goes out after it timed out.
    this.sendAttemptMs = Math.min(this.timeoutMs, SEND_ATTEMPT_MS);
    this.dealer = new Dealer({ linger: 0, immediate: true, sendTimeout: this.sendAttemptMs, ...curveOptions(opts.curve) });
    this.dealer.connect(this.control);
    this.sends = new SendQueue(this.dealer, Number.MAX_SAFE_INTEGER);
    this.loop = this.receive();
  }

  private async receive(): Promise<void> {
    try {
      for await (const [body, ...parts] of this.dealer) {
        let reply: Record<string, unknown>;
        try {
          reply = JSON.parse(body!.toString('utf8'));
        } catch {
          continue; // not ours to answer; the daemon always sends JSON
        }
        const p = typeof reply.id === 'number' ? this.pending.get(reply.id) : undefined;
        if (!p) continue; // a late reply after a timeout, or an id-less error
        this.pending.delete(reply.id as number);
        clearTimeout(p.timer);
        p.resolve({ reply, parts });
      }
    } catch (err) {
      if (!this.dealer.closed) this.failAll(err as Error);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  /** Sends one request; resolves with the raw reply and any binary parts. */
  private request(method: string, params: unknown, timeoutMs = this.timeoutMs): Promise<{ reply: Record<string, unknown>; parts: Buffer[] }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcTimeoutError(method, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      const deadline = performance.now() + timeoutMs;
      this.sends.push(
        [JSON.stringify({ id, method, params })],
        () => !this.pending.has(id),
        () => performance.now() + this.sendAttemptMs <= deadline,
      );
    });
  }

  /** Calls a control method; rejects with RpcCallError (with its `code`) or RpcTimeoutError (after `opts.timeoutMs`, default the client's). */
  async call<M extends ApiMethod>(
    method: M,
    params: ApiMethods[M]['params'] = {} as ApiMethods[M]['params'],
    opts: { timeoutMs?: number } = {},
  ): Promise<ApiMethods[M]['result']> {
    const { reply, parts } = await this.request(method, params, opts.timeoutMs);
    if (reply.error) throw new RpcCallError(method, reply.error as RpcError);
    if (method === 'sessions.frames') {
      const r = reply.result as { session: string; stream: string; frames: FrameHeader[]; nextSeq: number | null };
      if (parts.length !== r.frames.length) {
        throw new RpcCallError(method, { code: ErrorCode.INTERNAL_ERROR, message: `reply has ${r.frames.length} headers but ${parts.length} payload parts` });
      }
      return { ...r, frames: r.frames.map((header, i) => ({ header, payload: decodePayload(header.dtype, parts[i]!) })) } as ApiMethods[M]['result'];
    }
    return reply.result as ApiMethods[M]['result'];
  }

  status(): Promise<DaemonStatus> {
    return this.call('daemon.status');
  }
  instruments(): Promise<DriverDescription[]> {
    return this.call('instruments.list');
  }
  describeInstrument(id: string): Promise<DriverDescription> {
    return this.call('instruments.describe', { id });
  }
  callInstrument(id: string, command: string, params: Record<string, unknown> = {}): Promise<unknown> {
    return this.call('instruments.call', { id, command, params });
  }
  plans(): Promise<PlanSummary[]> {
    return this.call('plans.list');
  }
  describePlan(name: string): Promise<PlanDescription> {
    return this.call('plans.describe', { name });
  }
  /** `opts.onFault: 'suspend'` keeps the session open on an instrument fault until `resume` or `abort`. */
  start(plan: string, params: Record<string, unknown> = {}, meta?: SessionMeta, opts: { onFault?: 'fail' | 'suspend' } = {}): Promise<SessionStatus> {
    return this.call('sessions.start', { plan, params, ...(meta ? { meta } : {}), ...(opts.onFault ? { onFault: opts.onFault } : {}) });
  }
  pause(id?: string): Promise<SessionStatus> {
    return this.call('sessions.pause', id === undefined ? {} : { id });
  }
  resume(id?: string): Promise<SessionStatus> {
    return this.call('sessions.resume', id === undefined ? {} : { id });
  }
  abort(id?: string): Promise<SessionStatus> {
    return this.call('sessions.abort', id === undefined ? {} : { id });
  }
  session(id?: string): Promise<SessionStatus> {
    return this.call('sessions.status', id === undefined ? {} : { id });
  }
  sessions(): Promise<Array<{ id: string; [field: string]: unknown }>> {
    return this.call('sessions.list');
  }

  /** Every recorded frame of `stream` with fromSeq ≤ seq ≤ toSeq, following `nextSeq` across replies. */
  async frames(session: string, stream: string, fromSeq: number, toSeq: number): Promise<Frame[]> {
    const out: Frame[] = [];
    let from: number | null = fromSeq;
    while (from !== null && from <= toSeq) {
      const r: FramesResult = await this.call('sessions.frames', { id: session, stream, fromSeq: from, toSeq });
      out.push(...r.frames);
      from = r.nextSeq;
    }
    return out;
  }

  /**
   * Subscribes to live data (all sessions, or `session`, optionally one
   * `stream`). Counts sequence gaps per stream; with `backfill`, fetches the
   * missed frames from the recording and emits them marked `backfilled`.
   */
  live(opts: LiveOptions = {}): LiveData {
    const live = new LiveData(this, this.data, this.opts.curve, opts, () => this.lives.delete(live));
    this.lives.add(live);
    return live;
  }

  /** Closes the sockets; pending calls reject. */
  async close(): Promise<void> {
    for (const l of [...this.lives]) l.close();
    this.dealer.close();
    this.failAll(new Error('client closed'));
    await this.loop;
  }
}

function curveOptions(curve: ClientCurve | undefined): Record<string, string> {
  return curve ? { curveServerKey: curve.serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey } : {};
}

export interface LiveOptions {
  /** Only this session (topic prefix `session/<id>/`). */
  session?: string;
  /** Only this stream. */
  stream?: string;
  /** Fetch missed frames from the recording and emit them marked `backfilled`. */
  backfill?: boolean;
  /** Messages the subscriber socket queues before libzmq drops (ZMQ_RCVHWM) [1000]. */
  receiveHighWaterMark?: number;
}

export type LiveMessage =
  | { kind: 'frame'; session: string; stream: string; header: FrameHeader; payload: Payload; backfilled: boolean }
  | { kind: 'status'; session: string; status: SessionStatus };

/** Per-stream counts of one live subscription. */
export interface StreamStats {
  /** Live frames received. */
  received: number;
  /** Frames missed live (sum of seq gaps). */
  missed: number;
  /** Missed frames recovered from the recording. */
  backfilled: number;
  /** Gaps seen, as inclusive seq ranges. */
  gaps: Array<[number, number]>;
  lastSeq: number;
}

/** How often a backfill asks again for frames the recording has not committed yet. */
const BACKFILL_ATTEMPTS = 5;

/** One live subscription on the data socket. */
export class LiveData {
  private readonly subject = new Subject<LiveMessage>();
  /** Frames (live and backfilled) and status snapshots, in arrival order. */
  readonly messages$: Observable<LiveMessage> = this.subject.asObservable();
  private readonly socket: Subscriber;
  private readonly streams = new Map<string, StreamStats>();
  private readonly backfills = new Set<Promise<void>>();
  private readonly loop: Promise<void>;
  /** Errors of backfill calls (the live stream goes on). */
  readonly backfillErrors: Error[] = [];

  constructor(
    private readonly client: QscopeClient,
    endpoint: string,
    curve: ClientCurve | undefined,
    private readonly opts: LiveOptions,
    private readonly onClose: () => void,
  ) {
    this.socket = new Subscriber({ linger: 0, receiveHighWaterMark: opts.receiveHighWaterMark ?? 1000, ...curveOptions(curve) });
    this.socket.connect(endpoint);
    const prefix = opts.session ? `session/${opts.session}/${opts.stream ?? ''}` : 'session/';
    this.socket.subscribe(prefix);
    this.loop = this.receive();
  }

  /** Stats per `<session>/<stream>`. */
  stats(): Map<string, StreamStats> {
    return this.streams;
  }

  /** Totals over all streams. */
  totals(): { received: number; missed: number; backfilled: number } {
    let received = 0, missed = 0, backfilled = 0;
    for (const s of this.streams.values()) {
      received += s.received;
      missed += s.missed;
      backfilled += s.backfilled;
    }
    return { received, missed, backfilled };
  }

  /** Resolves when every backfill started so far has finished. */
  async settled(): Promise<void> {
    while (this.backfills.size) await Promise.all([...this.backfills]);
  }

  private async receive(): Promise<void> {
    try {
      for await (const [topicBuf, headerBuf, payloadBuf] of this.socket) {
        const where = parseTopic(topicBuf!.toString());
        if (!where || !headerBuf) continue;
        if (this.opts.stream && where.stream !== this.opts.stream && where.stream !== STATUS_STREAM) continue;
        let header: unknown;
        try {
          header = JSON.parse(headerBuf.toString('utf8'));
        } catch {
          continue;
        }
        if (where.stream === STATUS_STREAM) {
          this.subject.next({ kind: 'status', session: where.session, status: header as SessionStatus });
          continue;
        }
        const h = header as FrameHeader;
        this.count(where.session, where.stream, h.seq);
        this.subject.next({ kind: 'frame', ...where, header: h, payload: decodePayload(h.dtype, payloadBuf ?? Buffer.alloc(0)), backfilled: false });
      }
    } catch (err) {
      if (!this.socket.closed) this.subject.error(err);
    }
  }

  private count(session: string, stream: string, seq: number): void {
    const key = `${session}/${stream}`;
    let s = this.streams.get(key);
    if (!s) {
      // The first frame seen sets the baseline: joining mid-session is not a gap.
      s = { received: 0, missed: 0, backfilled: 0, gaps: [], lastSeq: seq - 1 };
      this.streams.set(key, s);
    }
    s.received++;
    if (seq > s.lastSeq + 1) {
      const gap: [number, number] = [s.lastSeq + 1, seq - 1];
      s.gaps.push(gap);
      s.missed += gap[1] - gap[0] + 1;
      if (this.opts.backfill) this.backfill(session, stream, gap, s);
    }
    if (seq > s.lastSeq) s.lastSeq = seq;
  }

  /**
   * Fetches a gap from the recording. The recording trails live data by the store's commit interval, so
   * a part not yet committed is asked for again (up to BACKFILL_ATTEMPTS times, backing off).
   */
  private backfill(session: string, stream: string, [from, to]: [number, number], s: StreamStats, attempt = 1): void {
    const job = this.client
      .frames(session, stream, from, to)
      .then(async (frames) => {
        let next = from;
        for (const f of frames) {
          if (f.header.seq < next || f.header.seq > to) continue;
          next = f.header.seq + 1;
          s.backfilled++;
          this.subject.next({ kind: 'frame', session, stream, header: f.header, payload: f.payload, backfilled: true });
        }
        if (next <= to && !this.socket.closed) {
          if (attempt >= BACKFILL_ATTEMPTS) throw new Error(`${session}/${stream}: seq ${next}..${to} not in the recording after ${attempt} attempts`);
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
          this.backfill(session, stream, [next, to], s, attempt + 1);
        }
      })
      .catch((err: Error) => {
        this.backfillErrors.push(err);
      })
      .finally(() => this.backfills.delete(job));
    this.backfills.add(job);
  }

  close(): void {
    if (this.socket.closed) return;
    this.socket.close();
    this.subject.complete();
    this.onClose();
  }
}
