/**
 * Replies of the control ROUTER, queued per client and bounded by bytes (decision 1103). The socket runs
 * with ROUTER_MANDATORY and a small send high-water mark, so a send to a client whose pipe is full fails at
 * once (EAGAIN) instead of being dropped silently or queued without bound inside libzmq. A client whose
 * replies stay blocked for `dropAfterMs`, or whose unsent replies exceed `maxClientBytes`, is not reading:
 * it is dropped — its queued replies are discarded and its further requests ignored. One blocked client
 * never delays another (each has its own queue; a blocked one is retried on a timer).
 */
import type { Router } from 'zeromq';
import type { Part } from './send-queue.js';

export interface ReplyRouterOptions {
  /** Bytes of replies waiting for one client (not yet handed to the socket) before it is dropped. */
  maxClientBytes: number;
  /** How long a client's replies may stay blocked (its pipe full) before it is dropped, ms. */
  dropAfterMs: number;
  /** Delay before a blocked client is tried again, ms. */
  retryMs?: number;
  /** Clients remembered as dropped (oldest forgotten first). */
  maxDropped?: number;
}

interface Peer {
  rid: Buffer;
  queue: { parts: Part[]; bytes: number }[];
  bytes: number;
  blockedSince?: number;
  timer?: NodeJS.Timeout;
}

function sizeOf(parts: Part[]): number {
  let n = 0;
  for (const p of parts) n += typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength;
  return n;
}

export class ReplyRouter {
  private readonly peers = new Map<string, Peer>();
  private readonly ready = new Set<Peer>();
  private readonly dropped = new Set<string>();
  private pumping: Promise<void> | undefined;
  private idle: Array<() => void> = [];
  readonly stats = { sent: 0, failed: 0, droppedClients: 0, droppedReplies: 0, blocked: 0 };

  constructor(
    private readonly socket: Router,
    private readonly opts: ReplyRouterOptions,
    private readonly log: (msg: string, extra: Record<string, unknown>) => void = () => {},
  ) {}

  /** True once `rid` was dropped for not reading (its requests are then ignored). */
  isDropped(rid: Buffer): boolean {
    return this.dropped.has(rid.toString('hex'));
  }

  /** Bytes waiting in front of the socket, over all clients. */
  get queuedBytes(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.bytes;
    return n;
  }

  /** Queues a reply (`parts` start with the routing id). */
  push(parts: Part[]): void {
    const rid = parts[0] as Buffer;
    const key = rid.toString('hex');
    if (this.dropped.has(key)) {
      this.stats.droppedReplies++;
      return;
    }
    let peer = this.peers.get(key);
    if (!peer) this.peers.set(key, (peer = { rid, queue: [], bytes: 0 }));
    const bytes = sizeOf(parts);
    if (peer.queue.length > 0 && peer.bytes + bytes > this.opts.maxClientBytes) {
      this.drop(key, peer, `${peer.bytes + bytes} bytes of unread replies exceed the limit of ${this.opts.maxClientBytes}`);
      this.stats.droppedReplies++;
      return;
    }
    peer.queue.push({ parts, bytes });
    peer.bytes += bytes;
    if (!peer.timer) this.ready.add(peer);
    this.kick();
  }

  /** Starts the pump unless it runs (`.finally` settles asynchronously, so `pumping` is set before it clears). */
  private kick(): void {
    if (this.pumping) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      for (const f of this.idle.splice(0)) f();
      if (this.ready.size > 0) this.kick();
    });
  }

  /** Resolves when no reply is waiting (or every waiting client is blocked and `includeBlocked` is false). */
  async drained(includeBlocked = false): Promise<void> {
    for (;;) {
      if (this.pumping) await this.pumping;
      const waiting = [...this.peers.values()].some((p) => p.queue.length > 0 && (includeBlocked || !p.timer));
      if (!waiting) return;
      await new Promise<void>((r) => this.idle.push(r));
    }
  }

  /** Forgets every queued reply and timer (socket closing). */
  clear(): void {
    for (const p of this.peers.values()) if (p.timer) clearTimeout(p.timer);
    this.peers.clear();
    this.ready.clear();
    for (const f of this.idle.splice(0)) f();
  }

  private drop(key: string, peer: Peer, why: string): void {
    if (peer.timer) clearTimeout(peer.timer);
    this.stats.droppedReplies += peer.queue.length;
    this.peers.delete(key);
    this.ready.delete(peer);
    this.dropped.add(key);
    if (this.dropped.size > (this.opts.maxDropped ?? 10_000)) this.dropped.delete(this.dropped.values().next().value!);
    this.stats.droppedClients++;
    this.log('control client dropped: it does not read its replies', { client: key, why });
  }

  private async pump(): Promise<void> {
    while (this.ready.size > 0) {
      for (const peer of [...this.ready]) {
        const next = peer.queue[0];
        if (!next) {
          this.ready.delete(peer);
          continue;
        }
        if (this.socket.closed) {
          this.stats.failed += peer.queue.length;
          peer.queue.length = 0;
          peer.bytes = 0;
          continue;
        }
        try {
          await this.socket.send(next.parts);
          peer.queue.shift();
          peer.bytes -= next.bytes;
          peer.blockedSince = undefined;
          this.stats.sent++;
        } catch (err) {
          const code = (err as { code?: string }).code;
          const key = peer.rid.toString('hex');
          if (code === 'EAGAIN') {
            // Its pipe is full: not reading (or a burst the I/O thread has not flushed yet). Try again later.
            this.stats.blocked++;
            const now = performance.now();
            peer.blockedSince ??= now;
            if (now - peer.blockedSince >= this.opts.dropAfterMs) {
              this.drop(key, peer, `replies blocked for ${Math.round(now - peer.blockedSince)} ms`);
              continue;
            }
            this.ready.delete(peer);
            peer.timer = setTimeout(() => {
              peer.timer = undefined;
              if (this.peers.get(key) !== peer) return;
              this.ready.add(peer);
              this.kick();
            }, this.opts.retryMs ?? 2);
          } else {
            // EHOSTUNREACH: the client is gone; its replies have nowhere to go.
            this.stats.failed += peer.queue.length;
            this.peers.delete(key);
            this.ready.delete(peer);
          }
        }
        if (peer.queue.length === 0 && !peer.timer) {
          this.ready.delete(peer);
          if (this.peers.get(peer.rid.toString('hex')) === peer) this.peers.delete(peer.rid.toString('hex'));
        }
      }
    }
  }
}
