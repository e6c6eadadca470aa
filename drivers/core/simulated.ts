/**
 * Base of every simulated instrument: it lives in a SimWorld, runs on the
 * world's clock, and honours the fault-injection setting every simulator
 * takes (DESIGN.md): disconnect at a given time, time-outs, garbage replies.
 */
import type { Subscription } from 'rxjs';
import { Driver } from './driver.js';
import { DisconnectedError, GarbageError, TimeoutError } from './errors.js';
import type { Rng } from './rng.js';
import type { SimWorld } from './world.js';

export interface FaultSettings {
  /**
   * Experiment time in ms after connect() at which the instrument drops off
   * the bus. Fires once per driver: a reconnect after the fault stays up.
   */
  disconnectAtMs?: number;
  /** Probability, per operation, that the operation times out. */
  timeoutProbability?: number;
  /** Probability, per operation, that the reply is garbage. */
  garbageProbability?: number;
  /** Index (0-based, counted over this driver's operations) of an operation that times out. */
  timeoutAtOperation?: number;
  /** Index of an operation whose reply is garbage. */
  garbageAtOperation?: number;
  /** How long a timed-out operation waits before failing, ms of experiment time. */
  timeoutMs?: number;
}

/** JSON Schema of FaultSettings, for driver config schemas. */
export const FAULT_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    disconnectAtMs: { type: 'number', minimum: 0 },
    timeoutProbability: { type: 'number', minimum: 0, maximum: 1 },
    garbageProbability: { type: 'number', minimum: 0, maximum: 1 },
    timeoutAtOperation: { type: 'integer', minimum: 0, maximum: 2 ** 31 },
    garbageAtOperation: { type: 'integer', minimum: 0, maximum: 2 ** 31 },
    timeoutMs: { type: 'number', exclusiveMinimum: 0 },
  },
} as const;

export abstract class SimulatedDriver extends Driver {
  readonly impl: string = 'sim';
  protected readonly rng: Rng;
  private readonly faultRng: Rng;
  private operations = 0;
  private disconnectTimer: Subscription | undefined;
  private disconnectFired = false;
  /** Aborted when the link drops (fault or disconnect); pending operations wait on it. */
  protected link = new AbortController();

  constructor(
    id: string,
    protected readonly world: SimWorld,
    protected readonly faults: FaultSettings = {},
  ) {
    super(id, world.clock);
    this.rng = world.rng(`instrument/${id}`);
    this.faultRng = world.rng(`faults/${id}`);
  }

  protected async doConnect(): Promise<void> {
    this.link = new AbortController();
    const at = this.faults.disconnectAtMs;
    if (at !== undefined && !this.disconnectFired) {
      this.disconnectTimer = this.clock.scheduler.schedule(() => {
        this.disconnectFired = true;
        this.dropLink(new DisconnectedError(this.id, `instrument disconnected (fault injected at ${at} ms)`));
      }, at);
    }
  }

  protected async doDisconnect(): Promise<void> {
    this.disconnectTimer?.unsubscribe();
    this.disconnectTimer = undefined;
    this.link.abort(new DisconnectedError(this.id, 'disconnected by request'));
  }

  /** The instrument vanished: fault state, and every pending operation fails with `err`. */
  protected dropLink(err: DisconnectedError): void {
    this.disconnectTimer = undefined;
    this.fail(err);
    this.link.abort(err);
  }

  /**
   * Every operation goes through here: checks the link, then applies the
   * injected time-out or garbage fault for this operation. A time-out waits
   * `timeoutMs` of experiment time, then throws; garbage throws at once.
   */
  protected async operation(what: string, allowBusy = false): Promise<void> {
    this.requireReady(what, allowBusy);
    const index = this.operations++;
    const f = this.faults;
    const timeout = f.timeoutAtOperation === index || (f.timeoutProbability !== undefined && this.faultRng.uniform() < f.timeoutProbability);
    const garbage = f.garbageAtOperation === index || (f.garbageProbability !== undefined && this.faultRng.uniform() < f.garbageProbability);
    if (timeout) {
      const ms = f.timeoutMs ?? 1000;
      await this.wait(ms);
      throw this.fail(new TimeoutError(this.id, what, ms));
    }
    if (garbage) throw this.fail(new GarbageError(this.id, what));
  }

  /** Waits `ms` of experiment time; rejects with the link's error if the instrument drops meanwhile. */
  protected wait(ms: number): Promise<void> {
    return this.clock.sleep(ms, this.link.signal);
  }
}
