/**
 * The daemon's ZeroMQ API: control ROUTER + data PUB (+ ZAP handler when
 * CURVE is on), all in one private zeromq Context so several servers (tests)
 * never share a ZAP endpoint.
 */
import { Context } from 'zeromq';
import { ControlServer } from './control.js';
import { DataPublisher } from './publisher.js';
import { DEFAULT_CONTROL, DEFAULT_DATA } from './protocol.js';
import { securityFor, ZapHandler, type CurveOptions, type ZapDecision } from './security.js';
import type { ControlTarget } from './target.js';
export { API_CONFIG_SCHEMA } from './config.js';

/** The `api` section of the config (all optional; defaults in brackets). */
export interface ApiOptions {
  /** Control ROUTER endpoint [tcp://127.0.0.1:5555]. Port 0 binds an ephemeral port. */
  control?: string;
  /** Data PUB endpoint [tcp://127.0.0.1:5556]. */
  data?: string;
  /** CURVE keys + allow-list; required for any non-loopback endpoint. */
  curve?: CurveOptions;
  /** Largest request body in bytes [1 MiB]; frames above 4× this drop the peer. */
  maxRequestBytes?: number;
  /** Largest payload sum of a sessions.frames reply in bytes [64 MiB]. */
  maxReplyBytes?: number;
  /** Requests handled concurrently before SERVER_BUSY [256]. */
  maxInFlight?: number;
  /** Replies libzmq may hold for one client before it counts as blocked [16]. */
  replyHighWaterMark?: number;
  /** Bytes of unsent replies one client may have waiting before it is dropped [2 × maxReplyBytes + 1 MiB]. */
  maxClientReplyBytes?: number;
  /** A client whose replies stay blocked (it does not read) this long is dropped, ms [10000]. */
  dropAfterMs?: number;
  /** Data PUB send high-water mark, messages per subscriber [1000]. */
  dataHighWaterMark?: number;
  /** Messages waiting in front of the PUB socket before dropping the oldest [10000]. */
  dataQueueCapacity?: number;
  /** Socket linger on close, ms [500]. */
  lingerMs?: number;
}


export type ApiLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;

export class ApiServer {
  readonly context = new Context({ blocky: true });
  readonly control: ControlServer;
  readonly data: DataPublisher;
  private readonly zap: ZapHandler | undefined;
  private started = false;

  /** Validates the security settings at once: throws (saying why) when the server must not start. */
  constructor(
    private readonly target: ControlTarget,
    opts: ApiOptions = {},
    log: ApiLog = () => {},
    onZapDecision?: (d: ZapDecision) => void,
  ) {
    const controlEndpoint = opts.control ?? DEFAULT_CONTROL;
    const dataEndpoint = opts.data ?? DEFAULT_DATA;
    const curve = securityFor([controlEndpoint, dataEndpoint], opts.curve);
    const lingerMs = opts.lingerMs ?? 500;
    if (curve) {
      this.zap = new ZapHandler(this.context, curve.allow, (d) => {
        if (!d.allowed) log('warn', 'api: client refused by ZAP', { ...d });
        onZapDecision?.(d);
      });
    }
    this.control = new ControlServer(target, {
      endpoint: controlEndpoint,
      context: this.context,
      curve,
      maxRequestBytes: opts.maxRequestBytes ?? 1024 * 1024,
      maxReplyBytes: opts.maxReplyBytes ?? 64 * 1024 * 1024,
      maxInFlight: opts.maxInFlight ?? 256,
      ...(opts.replyHighWaterMark !== undefined ? { replyHighWaterMark: opts.replyHighWaterMark } : {}),
      ...(opts.maxClientReplyBytes !== undefined ? { maxClientReplyBytes: opts.maxClientReplyBytes } : {}),
      ...(opts.dropAfterMs !== undefined ? { dropAfterMs: opts.dropAfterMs } : {}),
      lingerMs,
      log,
    });
    this.data = new DataPublisher({
      endpoint: dataEndpoint,
      context: this.context,
      curve,
      sendHighWaterMark: opts.dataHighWaterMark ?? 1000,
      queueCapacity: opts.dataQueueCapacity ?? 10_000,
      lingerMs,
      log,
    });
  }

  get curveEnabled(): boolean {
    return this.zap !== undefined;
  }

  get zapDecisions(): { allowed: number; denied: number } {
    return this.zap?.decisions ?? { allowed: 0, denied: 0 };
  }

  /** Bound endpoints (real ports after binding port 0). */
  get endpoints(): { control: string; data: string } {
    return { control: this.control.endpoint, data: this.data.endpoint };
  }

  async start(): Promise<{ control: string; data: string }> {
    try {
      await this.zap?.start(); // the ZAP handler must exist before CURVE sockets accept peers
      await this.control.start();
      await this.data.start(this.target);
      this.started = true;
    } catch (err) {
      await this.close();
      throw err;
    }
    return this.endpoints;
  }

  /** Stops taking requests, lets running ones finish (bounded), closes every socket with bounded linger. */
  async stop(): Promise<void> {
    if (!this.started) return this.close();
    this.started = false;
    await this.control.stop();
    await this.data.stop();
    await this.zap?.stop();
  }

  private async close(): Promise<void> {
    this.control.socket.close();
    this.data.socket.close();
    await this.zap?.stop();
  }
}
