/**
 * The generic replay instrument: plays every recorded frame back in recording
 * order, for sessions whose instruments cannot be rebuilt (imported data sets,
 * rigs whose drivers this build does not have). Its one command `next`
 * returns the next recorded frame; the engine
 * replays it at its recorded time.
 */
import { Driver } from '../core/driver.js';
import type { Frame } from '../core/frame.js';
import type { Clock } from '../core/clock.js';
import type { ReplaySource } from './source.js';

export class ReplayDriver extends Driver {
  readonly kind = 'replay';
  readonly impl = 'replay';
  override readonly commands = {
    next: { description: 'the next recorded frame, at its recorded time', params: { type: 'object', additionalProperties: false }, mutating: true },
  };

  constructor(
    id: string,
    clock: Clock,
    private readonly source: ReplaySource,
  ) {
    super(id, clock);
  }

  protected async doConnect(): Promise<void> {}
  protected async doDisconnect(): Promise<void> {}

  async command_next(): Promise<Frame> {
    this.requireReady('next');
    // The engine waits until the frame's recorded time before stamping it (ReplayHooks.recordedT).
    return this.source.nextFrame();
  }
}
