/**
 * Serialises sends on one zeromq.js socket (it allows one pending send per
 * socket; a second gives EBUSY). Bounded: when more than `capacity`
 * messages wait, the oldest is dropped and counted, so a producer is never
 * blocked and memory never grows without bound.
 */
import type { Writable } from 'zeromq';

export type Part = Buffer | Uint8Array | string;

export class SendQueue {
  private readonly queue: Array<{ parts: Part[]; stale?: () => boolean; mayWait?: () => boolean }> = [];
  private head = 0;
  private pumping: Promise<void> | undefined;
  /** Messages handed to the socket. */
  sent = 0;
  /** Messages dropped because the queue was full. */
  dropped = 0;
  /** Messages the socket refused (errors), e.g. after close. */
  failed = 0;
  /** Messages skipped because they had gone stale before their turn. */
  skipped = 0;
  /** Sends tried again after timing out unsent (only for messages with a `mayWait` check). */
  retried = 0;

  /**
   * `yieldEvery`: hand the event loop back after this many sends in a row. Needed with `sendTimeout: 0`,
   * where every send resolves at once and a long queue would otherwise drain in one macrotask.
   */
  constructor(
    private readonly socket: Writable & { closed: boolean; writable: boolean },
    private readonly capacity: number,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly yieldEvery = Infinity,
  ) {}

  get length(): number {
    return this.queue.length - this.head;
  }

  /**
   * Queues a message; `stale` is asked right before sending (a timed-out request must not go out late).
   * `mayWait`, when given, is asked before every attempt that would block (the socket's send timeout): while it
   * holds, a send that timed out unsent is tried again; once it fails, the message is given up unsent.
   */
  push(message: Part[], stale?: () => boolean, mayWait?: () => boolean): void {
    if (this.length >= this.capacity) {
      this.head++;
      this.dropped++;
    }
    this.queue.push(stale || mayWait ? { parts: message, stale, mayWait } : { parts: message });
    this.pumping ??= this.pump();
  }

  /** Resolves when everything queued so far was handed to the socket. */
  async drained(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    try {
      let run = 0;
      while (this.length > 0) {
        if (++run > this.yieldEvery) {
          run = 0;
          await new Promise((r) => setImmediate(r));
          continue;
        }
        const { parts: msg, stale, mayWait } = this.queue[this.head]!;
        this.queue[this.head++] = undefined as never;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        if (this.socket.closed) {
          this.failed++;
          continue;
        }
        if (stale?.()) {
          this.skipped++;
          continue;
        }
        for (;;) {
          // `mayWait` false: a send that would block now could still be waiting when its sender's deadline has
          // passed, and go out late; it is given up instead (a send that can go out at once still goes).
          if (mayWait && !mayWait() && !this.socket.writable) {
            this.skipped++;
            break;
          }
          try {
            await this.socket.send(msg);
            this.sent++;
          } catch (err) {
            // A send that timed out (EAGAIN: with `immediate`, no peer is connected yet) never entered libzmq's
            // queue, so trying again cannot duplicate it: a message whose sender still waits for it is tried
            // until it goes out or its deadline is too close, instead of being lost while its caller waits for
            // a reply that cannot come.
            if (mayWait && (err as { code?: string }).code === 'EAGAIN' && !this.socket.closed && !stale?.()) {
              this.retried++;
              continue;
            }
            this.failed++;
            this.onError(err);
          }
          break;
        }
      }
    } finally {
      this.pumping = undefined;
    }
  }
}
