/**
 * Base of every real adapter: a Driver over one Link (decision 1301).
 *
 * - connect(): opens the link (synchronised) and calls `verify()`, where the
 *   adapter reads the device state back (identity, servo, output, position)
 *   with non-mutating queries only;
 * - the link going down (unplug) puts the driver into `fault` with a
 *   DisconnectedError, which the engine turns into a suspended session;
 * - the link coming back by itself (reconnect with back-off) runs `verify()`
 *   again and, if it passes, returns the driver to `ready`. Nothing is
 *   re-sent and nothing is re-enabled: servo and rf output stay as the
 *   device reports them;
 * - the session records every command it sends through `ctx.call`.
 */
import type { Subscription } from 'rxjs';
import type { Clock } from '../clock.js';
import { Driver } from '../driver.js';
import { DriverError, GarbageError } from '../errors.js';
import type { Logger } from '../log.js';
import { Link, type LinkOptions } from './link.js';

export { LINK_SETTINGS_SCHEMA } from './address.js';

/** Settings every adapter takes (the config contract): `address`, `baudRate`, `replyTimeoutMs`. */
export interface LinkSettings {
  address: string;
  baudRate?: number;
  replyTimeoutMs?: number;
  /** Liveness probe period when idle, ms (0: off). */
  watchdogMs?: number;
}

export abstract class LinkedDriver extends Driver {
  readonly link: Link;
  private readonly linkSub: Subscription;
  private recovering: Promise<void> | undefined;

  constructor(id: string, clock: Clock, link: Omit<LinkOptions, 'id'>, log?: Logger) {
    super(id, clock);
    this.link = new Link({ ...link, id, ...(log ? { log } : {}) });
    this.linkSub = this.link.events$.subscribe((ev) => {
      if (ev.type === 'down') this.fail(ev.error);
      else if (ev.type === 'up' && this.state === 'fault') void this.recover();
    });
  }

  /** Reads the device state back after a (re)connect: non-mutating queries only. Throws a DriverError when it does not check out. */
  protected abstract verify(): Promise<void>;

  protected async doConnect(): Promise<void> {
    await this.link.open();
    await this.verify();
  }

  protected async doDisconnect(): Promise<void> {
    await this.link.close();
  }

  /** Stops listening to the link for good (the driver is being thrown away). */
  async dispose(): Promise<void> {
    this.linkSub.unsubscribe();
    await this.disconnect();
  }

  /** Back by itself after an unplug: verify the state, then `ready` (or stay in `fault` with the reason). */
  private recover(): Promise<void> {
    this.recovering ??= (async () => {
      try {
        this.setState('connecting');
        await this.verify();
        this.lastFault = undefined;
        this.setState('ready');
      } catch (err) {
        this.fail(err);
      } finally {
        this.recovering = undefined;
      }
    })();
    return this.recovering;
  }

  /** Parses a reply; anything that does not parse is a GarbageError and the link resynchronises before the next command. */
  protected parse<T>(what: string, reply: string, fn: (reply: string) => T | undefined): T {
    let v: T | undefined;
    try {
      v = fn(reply);
    } catch {
      v = undefined;
    }
    if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) {
      this.link.markDirty();
      throw new GarbageError(this.id, `${what} (got ${JSON.stringify(reply.slice(0, 80))})`);
    }
    return v;
  }

  /** Runs an operation; a DriverError other than a device's own refusal passes through as is. */
  protected wrap(err: unknown): DriverError {
    return err instanceof DriverError ? err : new DriverError('DISCONNECTED', this.id, String((err as Error)?.message ?? err), { cause: err });
  }
}
