/**
 * The control socket: a ROUTER that takes requests from DEALER clients
 * (`[body]`) and REQ clients (`['', body]`) and answers in the same framing.
 * Requests run concurrently (bounded by `maxInFlight`); replies are queued
 * per client, bounded by bytes, and a client that does not read them is
 * dropped (reply-router.ts), so no client can stall another or fill the
 * daemon's memory. At shutdown every request still in flight is answered
 * with SHUTTING_DOWN.
 */
import { Router, type Context } from 'zeromq';
import { Dispatcher, type DispatcherOptions } from './dispatcher.js';
import { ErrorCode } from './protocol.js';
import type { Part } from './send-queue.js';
import { ReplyRouter } from './reply-router.js';
import type { ControlTarget } from './target.js';
import type { ResolvedCurve } from './security.js';

export interface ControlServerOptions extends DispatcherOptions {
  endpoint: string;
  context: Context;
  curve?: ResolvedCurve;
  /** Requests handled at once; more get SERVER_BUSY. */
  maxInFlight: number;
  /** ms the socket may keep unsent replies after close. */
  lingerMs: number;
  /** Replies libzmq may hold for one client before a send to it reports it full [16]. */
  replyHighWaterMark?: number;
  /** Bytes of replies waiting for one client before it is dropped [2 × maxReplyBytes + 1 MiB]. */
  maxClientReplyBytes?: number;
  /** A client whose replies stay blocked this long is dropped, ms [10000]. */
  dropAfterMs?: number;
  log?: (level: 'debug' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

/** Frame size beyond which libzmq drops the peer connection (no reply possible), as a multiple of maxRequestBytes. */
export const HARD_LIMIT_FACTOR = 4;

export class ControlServer {
  readonly socket: Router;
  readonly dispatcher: Dispatcher;
  readonly replies: ReplyRouter;
  private inFlight = 0;
  /** Requests being handled: their envelope and body, to answer SHUTTING_DOWN should the daemon stop first. */
  private readonly pending = new Set<{ envelope: Part[]; body: Buffer; answered: boolean }>();
  private readonly idle: Array<() => void> = [];
  private loop: Promise<void> | undefined;
  private closing = false;
  /** Counters for status and tests. */
  readonly stats = { requests: 0, errors: 0, busy: 0 };

  constructor(
    target: ControlTarget,
    private readonly opts: ControlServerOptions,
  ) {
    this.dispatcher = new Dispatcher(target, opts);
    this.socket = new Router({
      context: opts.context,
      linger: opts.lingerMs,
      maxMessageSize: opts.maxRequestBytes * HARD_LIMIT_FACTOR,
      // Mandatory + no send timeout: a send to a client whose pipe is full fails at once (EAGAIN) and the reply
      // router decides (retry, or drop a client that does not read); an unknown client fails (EHOSTUNREACH).
      mandatory: true,
      sendTimeout: 0,
      sendHighWaterMark: opts.replyHighWaterMark ?? 16,
      ...(opts.curve
        ? { curveServer: true, curvePublicKey: opts.curve.publicKey, curveSecretKey: opts.curve.secretKey, zapDomain: 'qscope' }
        : {}),
    });
    this.replies = new ReplyRouter(
      this.socket,
      { maxClientBytes: opts.maxClientReplyBytes ?? 2 * opts.maxReplyBytes + 2 ** 20, dropAfterMs: opts.dropAfterMs ?? 10_000 },
      (msg, extra) => this.opts.log?.('warn', msg, extra),
    );
  }

  /** The bound endpoint with the real port (after start). */
  get endpoint(): string {
    return this.socket.lastEndpoint ?? this.opts.endpoint;
  }

  async start(): Promise<void> {
    try {
      await this.socket.bind(this.opts.endpoint);
    } catch (err) {
      throw new Error(`api: cannot bind the control socket to ${this.opts.endpoint}: ${(err as Error).message}`, { cause: err });
    }
    this.loop = this.receiveLoop();
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) this.onMessage(frames);
    } catch (err) {
      if (!this.socket.closed) this.opts.log?.('error', 'control receive loop ended', { err: String(err) });
    }
  }

  private onMessage(frames: Buffer[]): void {
    this.stats.requests++;
    const [rid, ...rest] = frames as [Buffer, ...Buffer[]];
    if (this.replies.isDropped(rid)) return; // it does not read: nothing more for it
    // REQ puts an empty delimiter before the body; DEALER does not. Mirror it.
    const req = rest.length >= 2 && rest[0]!.length === 0;
    const envelope: Part[] = req ? [rid, ''] : [rid];
    const body = req ? rest.slice(1) : rest;
    if (body.length !== 1) {
      return this.replyError(envelope, ErrorCode.INVALID_REQUEST,
        `invalid request: expected exactly one body frame after the ${req ? 'REQ delimiter' : 'routing envelope'}, got ${body.length}`);
    }
    if (this.closing) return this.replyError(envelope, ErrorCode.SHUTTING_DOWN, 'the daemon is shutting down');
    if (this.inFlight >= this.opts.maxInFlight) {
      this.stats.busy++;
      return this.replyError(envelope, ErrorCode.SERVER_BUSY, `server busy: ${this.opts.maxInFlight} requests in flight`, { limit: this.opts.maxInFlight });
    }
    this.inFlight++;
    const entry = { envelope, body: body[0]!, answered: false };
    this.pending.add(entry);
    void this.dispatcher
      .dispatch(body[0]!)
      .then((reply) => {
        if (entry.answered) return; // already told "shutting down"
        entry.answered = true;
        if (reply.error) this.stats.errors++;
        this.replies.push([...envelope, reply.json, ...reply.parts]);
      })
      .finally(() => {
        this.pending.delete(entry);
        if (--this.inFlight === 0) this.idle.splice(0).forEach((f) => f());
      });
  }

  private replyError(envelope: Part[], code: number, message: string, data?: unknown): void {
    this.stats.errors++;
    this.replies.push([...envelope, JSON.stringify({ id: null, error: data === undefined ? { code, message } : { code, message, data } })]);
  }

  /**
   * Stops taking requests (late ones get SHUTTING_DOWN), waits up to
   * `graceMs` for requests in flight, answers those still running with
   * SHUTTING_DOWN (their own request id), sends every reply, closes.
   */
  async stop(graceMs = 1000): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((res) => this.idle.push(res)),
        new Promise<void>((res) => (timer = setTimeout(res, graceMs))),
      ]);
      clearTimeout(timer);
    }
    for (const entry of this.pending) {
      if (entry.answered) continue;
      entry.answered = true;
      this.stats.errors++;
      const error = { code: ErrorCode.SHUTTING_DOWN, message: 'the daemon is shutting down; this request was not completed' };
      this.replies.push([...entry.envelope, JSON.stringify({ id: requestIdOf(entry.body), error })]);
    }
    await this.replies.drained();
    this.socket.close();
    this.replies.clear();
    await this.loop;
  }
}

/** The id of a request body, or null (read only at shutdown, for requests that got no reply). */
function requestIdOf(body: Buffer): string | number | null {
  try {
    const id = (JSON.parse(body.toString('utf8')) as { id?: unknown })?.id;
    return typeof id === 'string' && id.length <= 256 ? id : typeof id === 'number' && Number.isFinite(id) ? id : null;
  } catch {
    return null;
  }
}
