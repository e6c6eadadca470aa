/**
 * The Driver contract (DESIGN.md): an id, a kind, connect/disconnect and a
 * `state$` Observable. Each kind adds typed methods and streams in its own
 * folder; a simulator and a real adapter of one kind implement the same
 * interface and the config chooses between them.
 *
 * Instruments declare their channels once (name, dtype, unit, access) and
 * their remotely callable commands once (name, JSON Schema of params); the
 * API, the recorder and replay derive what they need from these tables.
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import { distinctUntilChanged } from 'rxjs/operators';
import type { Clock } from './clock.js';
import type { Dtype } from './frame.js';
import { DriverError, NotConnectedError } from './errors.js';

export type DriverState = 'disconnected' | 'connecting' | 'ready' | 'busy' | 'fault';

export interface ChannelSpec {
  /** Channel name; the stream is `<driver id>.<name>`. */
  name: string;
  dtype: Dtype;
  /** Unit of the payload values (SI prefixes allowed: `nm`, `counts`, `1`). */
  unit: string;
  access: 'read' | 'write' | 'stream';
  description?: string;
}

export interface CommandSpec {
  description: string;
  /** JSON Schema of the params object (validated before the call). */
  params: Record<string, unknown>;
  /** True when the command moves or changes the instrument (refused while a session owns it). */
  mutating: boolean;
}

export interface DriverDescription {
  id: string;
  kind: string;
  impl: string;
  state: DriverState;
  channels: ChannelSpec[];
  commands: Record<string, Omit<CommandSpec, never>>;
  fault?: { code: string; message: string };
}

export abstract class Driver {
  abstract readonly kind: string;
  /** Which implementation: 'sim', 'replay', or a real adapter's name. */
  abstract readonly impl: string;
  readonly channels: ChannelSpec[] = [];
  readonly commands: Record<string, CommandSpec> = {};

  private readonly stateSubject = new BehaviorSubject<DriverState>('disconnected');
  /** Current state; replays the latest value to new subscribers. */
  readonly state$: Observable<DriverState> = this.stateSubject.pipe(distinctUntilChanged());
  /** The last fault, if the driver is in `fault`. */
  lastFault: DriverError | undefined;
  private disconnecting = false;
  private connecting: Promise<void> | undefined;

  constructor(
    readonly id: string,
    protected readonly clock: Clock,
  ) {}

  get state(): DriverState {
    return this.stateSubject.value;
  }

  async connect(): Promise<void> {
    if (this.state === 'ready' || this.state === 'busy') return;
    // Concurrent callers share one attempt (two doConnect()s would open the link twice).
    this.connecting ??= (async () => {
      this.setState('connecting');
      try {
        await this.doConnect();
        this.lastFault = undefined;
        this.setState('ready');
      } catch (err) {
        this.fail(err);
        throw err;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  async disconnect(): Promise<void> {
    // Operations that the disconnect itself cancels must not turn into a fault.
    this.disconnecting = true;
    try {
      await this.doDisconnect();
    } finally {
      this.disconnecting = false;
      this.lastFault = undefined;
      this.setState('disconnected');
    }
  }

  /** Calls a declared command by name with already-validated params (the API's `instruments.call`). */
  async call(command: string, params: Record<string, unknown>): Promise<unknown> {
    if (!Object.hasOwn(this.commands, command)) throw new DriverError('CONFIG', this.id, `unknown command '${command}'`);
    const fn = (this as unknown as Record<string, unknown>)[`command_${command}`];
    if (typeof fn !== 'function') throw new DriverError('CONFIG', this.id, `command '${command}' has no implementation`);
    return (fn as (p: Record<string, unknown>) => Promise<unknown>).call(this, params);
  }

  describe(): DriverDescription {
    return {
      id: this.id,
      kind: this.kind,
      impl: this.impl,
      state: this.state,
      channels: this.channels,
      commands: this.commands,
      ...(this.lastFault ? { fault: { code: this.lastFault.code, message: this.lastFault.message } } : {}),
    };
  }

  protected abstract doConnect(): Promise<void>;
  protected abstract doDisconnect(): Promise<void>;

  protected setState(s: DriverState): void {
    this.stateSubject.next(s);
  }

  /**
   * Enters `fault` with a typed error (a non-DriverError is wrapped). Returns
   * the typed error. While disconnecting, or once disconnected, the state is
   * left alone: an operation cancelled by a requested disconnect is no fault.
   */
  protected fail(err: unknown): DriverError {
    const e = err instanceof DriverError ? err : new DriverError('DISCONNECTED', this.id, String((err as Error)?.message ?? err), { cause: err });
    if (this.disconnecting || this.state === 'disconnected') return e;
    this.lastFault = e;
    this.setState('fault');
    return e;
  }

  /** Throws NotConnectedError unless ready (or busy when `allowBusy`). */
  protected requireReady(what: string, allowBusy = false): void {
    if (this.state === 'ready' || (allowBusy && this.state === 'busy')) return;
    if (this.state === 'fault' && this.lastFault) throw this.lastFault;
    throw new NotConnectedError(this.id, what);
  }
}
