/**
 * The control socket: a ROUTER that takes requests from DEALER clients
 * (`[body]`) and REQ clients (`['', body]`) and answers in the same framing.
 * Requests run concurrently (bounded by `maxInFlight`); replies go through
 * one send queue. ROUTER drops replies to peers that vanished or stopped
 * reading (mandatory off), so no client can stall another.
 */
import { Router, type Context } from 'zeromq';
import { Dispatcher, type DispatcherOptions } from './dispatcher.js';
import { ErrorCode } from './protocol.js';
import { SendQueue, type Part } from './send-queue.js';
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
  log?: (level: 'debug' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

/** Frame size beyond which libzmq drops the peer connection (no reply possible), as a multiple of maxRequestBytes. */
export const HARD_LIMIT_FACTOR = 4;

export class ControlServer {
  readonly socket: Router;
  readonly dispatcher: Dispatcher;
  private readonly replies: SendQueue;
  private inFlight = 0;
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
      ...(opts.curve
        ? { curveServer: true, curvePublicKey: opts.curve.publicKey, curveSecretKey: opts.curve.secretKey, zapDomain: 'qscope' }
        : {}),
    });
    this.replies = new SendQueue(this.socket, opts.maxInFlight * 4, (err) => this.opts.log?.('warn', 'control reply not sent', { err: String(err) }));
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
    void this.dispatcher
      .dispatch(body[0]!)
      .then((reply) => {
        if (reply.error) this.stats.errors++;
        this.replies.push([...envelope, reply.json, ...reply.parts]);
      })
      .finally(() => {
        if (--this.inFlight === 0) this.idle.splice(0).forEach((f) => f());
      });
  }

  private replyError(envelope: Part[], code: number, message: string, data?: unknown): void {
    this.stats.errors++;
    this.replies.push([...envelope, JSON.stringify({ id: null, error: data === undefined ? { code, message } : { code, message, data } })]);
  }

  /**
   * Stops taking requests (late ones get SHUTTING_DOWN), waits up to
   * `graceMs` for requests in flight, sends their replies, closes.
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
    await this.replies.drained();
    this.socket.close();
    await this.loop;
  }
}
