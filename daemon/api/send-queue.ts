/**
 * Serialises sends on one zeromq.js socket (it allows one pending send per
 * socket; a second gives EBUSY). Bounded: when more than `capacity`
 * messages wait, the oldest is dropped and counted, so a producer is never
 * blocked and memory never grows without bound.
 */
import type { Writable } from 'zeromq';

export type Part = Buffer | Uint8Array | string;

export class SendQueue {
  private readonly queue: Array<{ parts: Part[]; stale?: () => boolean }> = [];
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

  /**
   * `yieldEvery`: hand the event loop back after this many sends in a row. Needed with `sendTimeout: 0`,
   * where every send resolves at once and a long queue would otherwise drain in one macrotask.
   */
  constructor(
    private readonly socket: Writable & { closed: boolean },
    private readonly capacity: number,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly yieldEvery = Infinity,
  ) {}

  get length(): number {
    return this.queue.length - this.head;
  }

  /** Queues a message; `stale` is asked right before sending (a timed-out request must not go out late). */
  push(message: Part[], stale?: () => boolean): void {
    if (this.length >= this.capacity) {
      this.head++;
      this.dropped++;
    }
    this.queue.push(stale ? { parts: message, stale } : { parts: message });
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
        const { parts: msg, stale } = this.queue[this.head]!;
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
        try {
          await this.socket.send(msg);
          this.sent++;
        } catch (err) {
          this.failed++;
          this.onError(err);
        }
      }
    } finally {
      this.pumping = undefined;
    }
  }
}
