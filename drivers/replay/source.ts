/**
 * The replay source: stands in for the simulated world behind the simulated
 * drivers (DESIGN.md, "replay"). A simulator asks `world.measure(stream,
 * compute)` for each measurement; here the answer is the next recorded frame
 * of that stream instead of the physics, so the same driver code plays the
 * session back. Recorded times are handed to the engine (`recordedT`) so the
 * replayed frames carry the recorded timing.
 */
import { assignField, type Frame, type Payload } from '../core/frame.js';
import { SimWorld, type Measurement, type WorldOptions } from '../core/world.js';
import { RecordingExhaustedError } from './errors.js';

/** What the source reads from (a SessionReader satisfies it). */
export interface RecordedFrames {
  page(table: 'frames', stream: string, fromSeq: number, limit: number): Frame[];
  pageById(table: 'frames', afterId: number, limit: number): { id: number; frame: Frame }[];
}

const PAGE = 1024;
const RESERVED = new Set(['stream', 'seq', 't', 'dtype', 'shape']);

export class ReplaySource extends SimWorld {
  private readonly buffers = new Map<string, { next: number; frames: Frame[]; done: boolean }>();
  private readonly pendingT = new Map<string, number[]>();
  private orderBuffer: { id: number; frame: Frame }[] = [];
  private lastId = 0;
  private orderDone = false;
  /** Measurements delivered so far. */
  delivered = 0;

  constructor(
    private readonly recording: RecordedFrames,
    opts: WorldOptions,
  ) {
    super(opts);
  }

  /** The next recorded measurement of `stream`; throws RecordingExhaustedError past the end. */
  override measure<P extends Payload>(stream: string, _compute: () => Measurement<P>): Measurement<P> {
    const f = this.nextOf(stream);
    const fields: Record<string, unknown> = {};
    const h = f.header as Record<string, unknown>;
    for (const k in h) if (!RESERVED.has(k) && Object.hasOwn(h, k)) assignField(fields, k, h[k]);
    return { payload: f.payload as P, shape: f.header.shape, fields };
  }

  /** The next recorded frame of any stream, in recording order (the generic replay driver). */
  nextFrame(): Frame {
    if (this.orderBuffer.length === 0 && !this.orderDone) {
      this.orderBuffer = this.recording.pageById('frames', this.lastId, PAGE);
      if (this.orderBuffer.length < PAGE) this.orderDone = true;
      if (this.orderBuffer.length) this.lastId = this.orderBuffer[this.orderBuffer.length - 1]!.id;
    }
    const next = this.orderBuffer.shift();
    if (!next) throw new RecordingExhaustedError('any stream');
    this.deliver(next.frame);
    return next.frame;
  }

  /** Recorded `t` (ns) of the oldest delivered, not yet stamped frame of `stream`. */
  recordedT(stream: string): number | undefined {
    return this.pendingT.get(stream)?.shift();
  }

  private nextOf(stream: string): Frame {
    let b = this.buffers.get(stream);
    if (!b) {
      b = { next: 0, frames: [], done: false };
      this.buffers.set(stream, b);
    }
    if (b.frames.length === 0 && !b.done) {
      b.frames = this.recording.page('frames', stream, b.next, PAGE);
      if (b.frames.length < PAGE) b.done = true;
    }
    const f = b.frames.shift();
    if (!f) throw new RecordingExhaustedError(stream);
    b.next = f.header.seq + 1;
    this.deliver(f);
    return f;
  }

  private deliver(f: Frame): void {
    this.delivered++;
    let q = this.pendingT.get(f.header.stream);
    if (!q) this.pendingT.set(f.header.stream, (q = []));
    q.push(f.header.t);
  }
}
