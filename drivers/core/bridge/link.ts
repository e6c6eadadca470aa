/**
 * qscope's side of the bridge protocol (docs/BRIDGE.md): one connection to
 * one bridge process — a DEALER for requests and heartbeats, a SUB for
 * streamed frames. A link lives for one connection: after it is lost (bye,
 * socket disconnect, missed heartbeats) it is dead, every pending request
 * fails, and the driver opens a new link on the operator's resume. Nothing is
 * ever re-sent by the link.
 *
 * Requests are matched to replies by id only; ids are `<link nonce>-<n>` and
 * never reused, so a reply after its deadline (or after a new hello) is
 * dropped and counted, never taken for a newer request.
 *
 * Heartbeats and deadlines run on wall time (setTimeout): the bridge is a
 * real process whatever the experiment clock is.
 */
import { randomBytes } from 'node:crypto';
import { Subject, type Observable } from 'rxjs';
import * as zmq from 'zeromq';
import { DisconnectedError, DriverError, TimeoutError } from '../errors.js';
import { PAYLOAD_CTOR, type Dtype, type Payload } from '../frame.js';

export const BRIDGE_PROTOCOL = 1;
export const SUPPORTED_PROTOCOLS: readonly number[] = [BRIDGE_PROTOCOL];

export interface CurveKeys {
  /** The bridge's public key (Z85, 40 characters). */
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

export interface BridgeLinkOptions {
  /** Control endpoint (the bridge's ROUTER), e.g. `tcp://127.0.0.1:5600`. */
  endpoint: string;
  /** Driver id, for error messages. */
  owner: string;
  heartbeatMs?: number;
  /** Deadline of hello and other short requests, ms. */
  deadlineMs?: number;
  curve?: CurveKeys;
  client?: string;
}

export interface BridgeInstrument {
  id: string;
  kind: string;
  model?: string;
  serial?: string;
  firmware?: string;
  channels?: { name: string; dtype: Dtype; unit: string }[];
  commands?: Record<string, { description: string; params: Record<string, unknown>; mutating: boolean }>;
}

export interface Hello {
  protocol: number;
  bridge: { name: string; version: string };
  sdk?: { name: string; version: string };
  data?: string;
  heartbeatMs?: number;
  instruments: BridgeInstrument[];
}

/** A reply's frame: payload plus the kind's fields (dtype/shape removed). */
export interface BridgeFrame {
  payload: Payload;
  shape: number[];
  fields: Record<string, unknown>;
}

export interface StreamedFrame extends BridgeFrame {
  /** The bridge's header (stream, seq, t in the bridge's clock). */
  header: Record<string, unknown>;
}

const DTYPES = new Set(['f64', 'f32', 'i32', 'u32', 'i16', 'u16', 'u8', 'i8']);
const BYTES: Record<string, number> = { f64: 8, f32: 4, i32: 4, u32: 4, i16: 2, u16: 2, u8: 1, i8: 1 };
const MAX_MESSAGE = 256 << 20;

/** Decodes `{dtype, shape, ...fields}` + bytes into a typed payload (copied, aligned); throws on a mismatch. */
export function decodeFrame(owner: string, head: Record<string, unknown>, bytes: Buffer | undefined): BridgeFrame {
  const { dtype, shape, ...fields } = head;
  const bad = (m: string) => new DriverError('GARBAGE', owner, `bridge frame: ${m}`);
  if (typeof dtype !== 'string' || !DTYPES.has(dtype)) throw bad(`dtype ${JSON.stringify(dtype)} is not one of ${[...DTYPES].join(' ')}`);
  if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) throw bad(`shape ${JSON.stringify(shape)} is not a list of sizes`);
  const n = (shape as number[]).reduce((a, b) => a * b, 1);
  const size = BYTES[dtype]!;
  if (!bytes) throw bad('reply has a frame header but no payload part');
  if (bytes.length !== n * size) throw bad(`payload of ${bytes.length} bytes, shape [${shape.join(', ')}] of ${dtype} needs ${n * size}`);
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  const payload = new PAYLOAD_CTOR[dtype as Dtype](buf, 0, n);
  return { payload, shape: shape as number[], fields };
}

interface Pending {
  resolve: (v: { result: unknown; frame?: BridgeFrame }) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

export class BridgeLink {
  private readonly nonce = randomBytes(4).toString('hex');
  private next = 0;
  private readonly dealer: zmq.Dealer;
  private sub: zmq.Subscriber | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly lostSubject = new Subject<DriverError>();
  private readonly framesSubject = new Subject<StreamedFrame>();
  private heartbeat: NodeJS.Timeout | undefined;
  private lastHeard = Date.now();
  /** Pings sent since the bridge was last heard from. */
  private unanswered = 0;
  private sendChain: Promise<unknown> = Promise.resolve();
  private deadError: DriverError | undefined;
  /** Replies that came after their request had failed or ended (counted, never delivered). */
  lateReplies = 0;
  hello: Hello | undefined;
  readonly heartbeatMs: number;

  /** Emits once, when the link is lost (bye, disconnect, heartbeats) — never after close(). */
  readonly lost$: Observable<DriverError> = this.lostSubject.asObservable();
  /** Frames published on the SUB topics subscribed with `subscribe`. */
  readonly frames$: Observable<StreamedFrame> = this.framesSubject.asObservable();

  constructor(readonly options: BridgeLinkOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.dealer = new zmq.Dealer({ linger: 0, maxMessageSize: MAX_MESSAGE, ...curveOptions(options.curve) });
  }

  get alive(): boolean {
    return !this.deadError;
  }

  /** Connects, says hello and checks the protocol version. Rejects (and closes) on any failure. */
  async open(): Promise<Hello> {
    const { endpoint, owner } = this.options;
    try {
      this.dealer.connect(endpoint);
    } catch (err) {
      throw new DriverError('CONFIG', owner, `bridge endpoint ${endpoint}: ${(err as Error).message}`);
    }
    // The monitor reports a refused CURVE handshake before the disconnect that follows it.
    this.dealer.events.on('handshake:error:auth', (e) =>
      this.die(new DriverError('CONFIG', owner, `bridge at ${endpoint} refused the CURVE handshake (status ${e.error?.status ?? '?'}): is this client's public key on the bridge's allow-list?`)),
    );
    // A clean shutdown sends `bye` and then closes: give a `bye` on its way one heartbeat period to be read first.
    this.dealer.events.on('disconnect', () => {
      const t = setTimeout(() => this.die(new DisconnectedError(owner, `connection to the bridge at ${endpoint} lost`)), this.heartbeatMs);
      t.unref?.();
    });
    void this.receiveLoop();
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref?.();
    try {
      const { result } = await this.request('hello', { protocols: [...SUPPORTED_PROTOCOLS], client: this.options.client ?? 'qscope' });
      const h = result as Hello;
      if (!h || typeof h !== 'object' || !Array.isArray(h.instruments)) throw new DriverError('GARBAGE', owner, `bridge at ${endpoint}: hello reply is not {protocol, bridge, instruments}`);
      if (!SUPPORTED_PROTOCOLS.includes(h.protocol))
        throw new DriverError('CONFIG', owner, `bridge at ${endpoint} speaks bridge protocol ${JSON.stringify(h.protocol)}; this qscope speaks ${SUPPORTED_PROTOCOLS.join(', ')} (docs/BRIDGE.md)`);
      this.hello = h;
      if (h.data) await this.openSub(h.data);
      return h;
    } catch (err) {
      await this.close(false);
      throw err;
    }
  }

  /**
   * Sends one request and resolves with its result (and frame). Rejects with
   * TimeoutError after `deadlineMs` (the reply, if it ever comes, is dropped),
   * with DisconnectedError when the link is lost, or with the bridge's error.
   */
  request(method: string, params: Record<string, unknown> = {}, opts: { instrument?: string; deadlineMs?: number } = {}): Promise<{ result: unknown; frame?: BridgeFrame }> {
    const { owner } = this.options;
    if (this.deadError) return Promise.reject(this.deadError);
    const id = `${this.nonce}-${this.next++}`;
    const deadlineMs = opts.deadlineMs ?? this.options.deadlineMs ?? 5000;
    const env = { v: BRIDGE_PROTOCOL, type: 'request', id, method, params, deadlineMs, ...(opts.instrument ? { instrument: opts.instrument } : {}) };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        reject(new TimeoutError(owner, `bridge ${method}`, deadlineMs));
      }, deadlineMs);
      timer.unref?.();
      this.pending.set(id, { resolve, reject, timer, method });
      this.send([JSON.stringify(env)]).catch((err) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        reject(new DisconnectedError(owner, `bridge ${method}: send failed (${(err as Error).message})`));
      });
    });
  }

  /** Subscribes the SUB socket to `topic` (`<instrument>/<channel>`). */
  subscribe(topic: string): void {
    this.sub?.subscribe(topic);
  }

  /** Ends the link; `bye` tells the bridge it was on purpose. Pending requests fail as disconnected. */
  async close(sayBye = true): Promise<void> {
    if (sayBye && !this.deadError) await this.send([JSON.stringify({ v: BRIDGE_PROTOCOL, type: 'bye', reason: 'client disconnect' })]).catch(() => undefined);
    this.kill(new DisconnectedError(this.options.owner, 'disconnected by request'), false);
  }

  private async openSub(data: string): Promise<void> {
    // The bridge announces its PUB as bound (maybe 0.0.0.0 or *): keep the control endpoint's host, take the port.
    const port = /:(\d+)$/.exec(data)?.[1];
    const host = /^tcp:\/\/(.+):\d+$/.exec(this.options.endpoint)?.[1];
    const endpoint = port && host ? `tcp://${host}:${port}` : data;
    this.sub = new zmq.Subscriber({ linger: 0, maxMessageSize: MAX_MESSAGE, ...curveOptions(this.options.curve) });
    this.sub.connect(endpoint);
    void this.subLoop(this.sub);
  }

  private send(parts: (string | Buffer)[]): Promise<void> {
    // zeromq.js allows one pending send per socket: chain them.
    const p = this.sendChain.then(() => this.dealer.send(parts));
    this.sendChain = p.catch(() => undefined);
    return p;
  }

  /**
   * Counts pings, not milliseconds: a bridge is lost after 3 pings in a row got no answer. An event loop
   * blocked by heavy work sends no pings either, so a stall on our side is never taken for a silent bridge.
   */
  private beat(): void {
    if (this.deadError) return;
    if (this.unanswered >= 3) {
      const silent = Date.now() - this.lastHeard;
      return this.die(new DisconnectedError(this.options.owner, `bridge at ${this.options.endpoint} silent for ${silent} ms (3 heartbeats missed)`));
    }
    this.unanswered++;
    this.send([JSON.stringify({ v: BRIDGE_PROTOCOL, type: 'ping', t: Date.now() })]).catch(() => undefined);
  }

  private async receiveLoop(): Promise<void> {
    const { owner } = this.options;
    for (;;) {
      let msg: Buffer[];
      try {
        msg = await this.dealer.receive();
      } catch {
        return; // socket closed
      }
      this.lastHeard = Date.now();
      this.unanswered = 0;
      let env: Record<string, unknown>;
      try {
        env = JSON.parse(msg[0]!.toString('utf8'));
      } catch {
        continue; // not an envelope: ignore (the heartbeat still counts as heard)
      }
      if (env.type === 'bye') {
        this.die(new DisconnectedError(owner, `bridge closed: ${String(env.reason ?? 'no reason given')}`));
        return;
      }
      if (env.type !== 'reply') continue;
      const p = this.pending.get(String(env.id));
      if (!p) {
        this.lateReplies++;
        continue;
      }
      this.pending.delete(String(env.id));
      clearTimeout(p.timer);
      if (env.v !== BRIDGE_PROTOCOL && p.method !== 'hello') {
        p.reject(new DriverError('GARBAGE', owner, `bridge ${p.method}: reply has protocol version ${JSON.stringify(env.v)}, expected ${BRIDGE_PROTOCOL}`));
        continue;
      }
      const error = env.error as { code?: string; message?: string } | undefined;
      if (error) {
        p.reject(bridgeError(owner, p.method, error));
        continue;
      }
      const result = env.result as Record<string, unknown> | undefined;
      try {
        const frame = result && typeof result === 'object' && result.frame ? decodeFrame(owner, result.frame as Record<string, unknown>, msg[1]) : undefined;
        p.resolve({ result, ...(frame ? { frame } : {}) });
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  private async subLoop(sub: zmq.Subscriber): Promise<void> {
    for (;;) {
      let msg: Buffer[];
      try {
        msg = await sub.receive();
      } catch {
        return;
      }
      try {
        const header = JSON.parse(msg[1]!.toString('utf8')) as Record<string, unknown>;
        const { stream: _s, seq: _q, t: _t, ...rest } = header;
        this.framesSubject.next({ ...decodeFrame(this.options.owner, rest, msg[2]), header });
      } catch {
        // A malformed published frame is dropped; the seq gap shows it.
      }
    }
  }

  private die(err: DriverError): void {
    if (this.deadError) return;
    this.kill(err, true);
  }

  private kill(err: DriverError, notify: boolean): void {
    if (this.deadError) return;
    this.deadError = err;
    clearInterval(this.heartbeat);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    if (notify) this.lostSubject.next(err);
    this.lostSubject.complete();
    this.framesSubject.complete();
    // Closing drops whatever is queued: nothing reaches a bridge that comes back later.
    this.dealer.close();
    this.sub?.close();
  }
}

function curveOptions(c: CurveKeys | undefined): Record<string, string> {
  return c ? { curveServerKey: c.serverKey, curvePublicKey: c.publicKey, curveSecretKey: c.secretKey } : {};
}

function bridgeError(owner: string, method: string, e: { code?: string; message?: string }): DriverError {
  const msg = `bridge ${method}: ${e.code ?? 'ERROR'}: ${e.message ?? 'no message'}`;
  switch (e.code) {
    case 'OUT_OF_RANGE':
      return new DriverError('OUT_OF_RANGE', owner, msg);
    case 'BUSY':
      return new DriverError('BUSY', owner, msg);
    case 'PROTOCOL':
      return new DriverError('CONFIG', owner, `${msg} (this qscope speaks bridge protocol ${SUPPORTED_PROTOCOLS.join(', ')}; docs/BRIDGE.md)`);
    default:
      return new DriverError('GARBAGE', owner, msg);
  }
}

/** True for endpoints that stay on this host (loopback TCP, ipc, inproc). */
export function isLocalEndpoint(endpoint: string): boolean {
  const m = /^tcp:\/\/([^:/]+|\[[^\]]+\]):/.exec(endpoint);
  if (!m) return /^(ipc|inproc):\/\//.test(endpoint);
  return ['127.0.0.1', 'localhost', '[::1]'].includes(m[1]!) || m[1]!.startsWith('127.');
}
