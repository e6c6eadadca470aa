/**
 * Base of every `impl: bridge` driver: one BridgeLink per connection, the
 * bridge instrument this driver stands for, and the rules every kind shares:
 *
 * - connect() opens a new link (new sockets: nothing queued on an old one
 *   reaches the bridge), says hello, finds the instrument and checks its kind;
 *   each kind then reads the instrument's state back (`verify`).
 * - The link's loss (bye, disconnect, missed heartbeats) puts the driver in
 *   `fault` at once, so a session suspends even while it waits on another
 *   instrument; pending requests fail with DisconnectedError.
 * - A missed deadline is a `fault` too (TIMEOUT): whether the bridge acted is
 *   unknown, so nothing more is sent until the operator's resume reconnects.
 * - Requests run under `clock.hold`, so a virtual clock never advances while
 *   the bridge works; a measurement also lets its duration pass on the clock.
 */
import type { Subscription } from 'rxjs';
import type { Clock } from '../clock.js';
import { Driver, type CommandSpec, type DriverDescription } from '../driver.js';
import { DriverError } from '../errors.js';
import { BridgeLink, type BridgeFrame, type BridgeInstrument, type Hello } from './link.js';
import type { BridgeSettings } from './settings.js';

export abstract class BridgeDriver extends Driver {
  readonly impl: string = 'bridge';
  protected link: BridgeLink | undefined;
  private lostSub: Subscription | undefined;
  /** The bridge instrument this driver stands for (from hello). */
  remote: BridgeInstrument | undefined;
  helloInfo: Hello | undefined;

  constructor(
    id: string,
    clock: Clock,
    protected readonly bridgeSettings: BridgeSettings,
  ) {
    super(id, clock);
  }

  /** Reads the instrument's state after hello (geometry, sensor…) and checks it against what an earlier connection saw. */
  protected abstract verify(): Promise<void>;

  protected async doConnect(): Promise<void> {
    this.lostSub?.unsubscribe();
    const old = this.link;
    this.link = undefined;
    await old?.close();
    const link = new BridgeLink({
      endpoint: this.bridgeSettings.endpoint,
      owner: this.id,
      ...(this.bridgeSettings.heartbeatMs !== undefined ? { heartbeatMs: this.bridgeSettings.heartbeatMs } : {}),
      ...(this.bridgeSettings.deadlineMs !== undefined ? { deadlineMs: this.bridgeSettings.deadlineMs } : {}),
      ...(this.bridgeSettings.curve ? { curve: this.bridgeSettings.curve } : {}),
    });
    const hello = await this.clock.hold(link.open());
    const mine = hello.instruments.filter((i) => (this.bridgeSettings.instrument ? i.id === this.bridgeSettings.instrument : i.kind === this.kind));
    const fail = async (msg: string): Promise<never> => {
      await link.close();
      throw new DriverError('CONFIG', this.id, msg);
    };
    const names = hello.instruments.map((i) => `${i.id} (${i.kind})`).join(', ') || 'none';
    if (mine.length === 0) await fail(this.bridgeSettings.instrument ? `bridge ${hello.bridge?.name} has no instrument '${this.bridgeSettings.instrument}' (it has: ${names})` : `bridge ${hello.bridge?.name} has no ${this.kind} instrument (it has: ${names})`);
    if (mine.length > 1) await fail(`bridge ${hello.bridge?.name} has several ${this.kind} instruments (${names}): name one with \`instrument\``);
    if (mine[0]!.kind !== this.kind) await fail(`bridge instrument '${mine[0]!.id}' is a ${mine[0]!.kind}, not a ${this.kind}`);
    this.link = link;
    this.remote = mine[0];
    this.helloInfo = hello;
    this.adoptRemoteCommands();
    this.lostSub = link.lost$.subscribe((err) => this.onLost(err));
    try {
      await this.verify();
    } catch (err) {
      this.lostSub.unsubscribe();
      await link.close();
      this.link = undefined;
      throw err;
    }
  }

  /** Commands the bridge declares beyond the kind's own (e.g. a tagger's `tags`) become callable through `call`. */
  private readonly remoteCommands = new Set<string>();
  private adoptRemoteCommands(): void {
    for (const name of this.remoteCommands) delete this.commands[name];
    this.remoteCommands.clear();
    for (const [name, spec] of Object.entries(this.remote?.commands ?? {})) {
      if (Object.hasOwn(this.commands, name) || !/^[A-Za-z][\w.]{0,63}$/.test(name)) continue;
      const params = spec && typeof spec.params === 'object' && spec.params ? spec.params : { type: 'object' };
      const c: CommandSpec = { description: `${String(spec?.description ?? name)} (bridge ${this.helloInfo?.bridge?.name})`, params, mutating: spec?.mutating !== false };
      this.commands[name] = c;
      this.remoteCommands.add(name);
    }
  }

  /** The kind's commands run as usual; a command only the bridge declares is passed through as a request. */
  override async call(command: string, params: Record<string, unknown>): Promise<unknown> {
    if (!this.remoteCommands.has(command)) return super.call(command, params);
    this.requireReady(command);
    const { result, frame } = await this.request(command, params);
    return frame ? { ...frame.fields, shape: frame.shape, payload: Array.from(frame.payload as ArrayLike<number>) } : result;
  }

  /** Adds what the bridge said of itself and of the instrument (SDK, model, serial, firmware). */
  override describe(): DriverDescription & { bridge?: Record<string, unknown> } {
    const h = this.helloInfo;
    const r = this.remote;
    return {
      ...super.describe(),
      ...(h && r ? { bridge: { endpoint: this.bridgeSettings.endpoint, name: h.bridge?.name, version: h.bridge?.version, protocol: h.protocol, sdk: h.sdk, instrument: { id: r.id, model: r.model, serial: r.serial, firmware: r.firmware } } } : {}),
    };
  }

  protected async doDisconnect(): Promise<void> {
    this.lostSub?.unsubscribe();
    this.lostSub = undefined;
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }

  /** The link was lost: fault now (a session suspends), even with nothing pending. */
  protected onLost(err: DriverError): void {
    this.link = undefined;
    this.fail(err);
  }

  /**
   * One request to this driver's bridge instrument. A timeout or a lost link
   * puts the driver in `fault` (and closes the link); an error the bridge
   * reports (OUT_OF_RANGE, BUSY…) is thrown as is.
   */
  protected async request(method: string, params: Record<string, unknown> = {}, durationMs = 0): Promise<{ result: unknown; frame?: BridgeFrame }> {
    const link = this.link;
    if (!link || !link.alive) {
      this.requireReady(method, true);
      throw new DriverError('NOT_CONNECTED', this.id, `${method} refused: no bridge link`);
    }
    const deadlineMs = (this.bridgeSettings.deadlineMs ?? 5000) + durationMs;
    try {
      return await this.clock.hold(link.request(method, params, { instrument: this.remote!.id, deadlineMs }));
    } catch (err) {
      const e = err as DriverError;
      if (e.code === 'TIMEOUT' || e.code === 'DISCONNECTED') {
        // Unknown whether the bridge acted: stop talking on this link; the operator's resume reconnects.
        this.lostSub?.unsubscribe();
        this.link = undefined;
        void link.close(false);
        throw this.fail(e);
      }
      throw err;
    }
  }

  /**
   * A measurement that takes `durationMs` of experiment time: the request and
   * the clock run side by side (a virtual clock jumps once the reply is in).
   */
  protected async measure(method: string, params: Record<string, unknown>, durationMs: number): Promise<BridgeFrame> {
    const stop = new AbortController();
    const elapsed = this.clock.sleep(durationMs, stop.signal);
    elapsed.catch(() => undefined);
    try {
      const r = await this.request(method, params, durationMs);
      if (!r.frame) throw this.fail(new DriverError('GARBAGE', this.id, `bridge ${method}: reply carries no frame`));
      await elapsed;
      return r.frame;
    } catch (err) {
      stop.abort(err);
      throw err;
    }
  }

  /** Lets a subclass reject a malformed reply: fault with GARBAGE. */
  protected garbage(what: string): DriverError {
    return this.fail(new DriverError('GARBAGE', this.id, `bridge ${what}`));
  }
}
