/**
 * PI GCS 2.0 piezo controller adapter (`impl: pi-gcs`): E-727, E-712, E-709,
 * C-884 over TCP (port 50000) or serial. Implements the PiezoScanner
 * interface; stage coordinates are nm in qscope and µm on the controller.
 *
 * Commands used: `*IDN?`, `SVO?`/`SVO`, `TMN?`/`TMX?` (travel), `VEL?`,
 * `MOV` then `ERR?` (one exclusive block: a refused move is a typed error at
 * once), `ONT?` polled until on target, `POS?`, `HLT` on abort and in the
 * safe state, `#7` as the idle liveness probe, `*IDN?` as the sync probe.
 * Error codes (`ERR?`): 7/17 → OutOfRange, 5 servo off, 10 stopped (expected
 * after our own halt), others → DeviceRefusedError with the code.
 *
 * On (re)connect it reads identity, servo state, travel, velocity and
 * position back, and clears the error queue; it never sends a move and never
 * switches the servo on, except `servoOnConnect` at the very first connect.
 */
import { defer, filter, from, interval, mergeMap, share, type Observable } from 'rxjs';
import type { Clock } from '../../core/clock.js';
import { AbortedError, BusyError, DeviceRefusedError, DriverError, OutOfRangeError } from '../../core/errors.js';
import { makeFrame, type Frame } from '../../core/frame.js';
import { gcsFraming } from '../../core/io/framing.js';
import { LinkedDriver, type LinkSettings } from '../../core/io/linked.js';
import type { Logger } from '../../core/log.js';
import type { SimWorld } from '../../core/world.js';
import { PIEZO_CHANNELS, PIEZO_COMMANDS, type MoveOptions, type PiezoScanner, type Vec3 } from '../interface.js';

export interface PiGcsSettings extends LinkSettings {
  /** Stage axis → controller axis name. */
  axes?: { x: string; y: string; z: string };
  /** Switch the servo on at the first connect of the daemon (never on a reconnect). */
  servoOnConnect?: boolean;
  settleToleranceNm?: number;
  /** Rate of position$ read-backs, Hz. */
  readoutHz?: number;
  /** Pause between ONT? polls during a move, ms (wall time: this is a real device). */
  pollMs?: number;
  /** Hardware in the loop: write every read-back position into the simulated world (focusNm). */
  hardwareInTheLoop?: boolean;
  /** Home position, µm; default the middle of the travel. */
  homeUm?: Vec3;
}

/** GCS error code → what it means. */
export const GCS_ERRORS: Record<number, string> = {
  1: 'parameter syntax error',
  2: 'unknown command',
  5: 'servo off: motion refused',
  7: 'position out of limits',
  10: 'controller stopped (HLT, STP or #24)',
  15: 'invalid axis identifier',
  17: 'parameter out of range',
};

const POLL_MS = 5;

export class PiGcsPiezo extends LinkedDriver implements PiezoScanner {
  readonly kind = 'piezo' as const;
  readonly impl = 'pi-gcs';
  override readonly channels = PIEZO_CHANNELS;
  override readonly commands = {
    ...PIEZO_COMMANDS,
    servo: {
      description: 'Switch the closed-loop servo of every axis on or off (SVO).',
      params: { type: 'object', additionalProperties: false, required: ['on'], properties: { on: { type: 'boolean' } } },
      mutating: true,
    },
    halt: { description: 'Stop all axes now (HLT).', params: { type: 'object', additionalProperties: false, properties: {} }, mutating: true },
    state: { description: 'Identity, servo, on-target and position as the controller reports them now.', params: { type: 'object', additionalProperties: false, properties: {} }, mutating: false },
  };
  rangeNm: Readonly<Vec3> = [0, 0, 0];
  private minNm: Vec3 = [0, 0, 0];
  maxVelocityNmPerMs = 0;
  readonly settleToleranceNm: number;
  readonly position$: Observable<Frame<Float64Array>>;
  /** Identity string read at connect (`*IDN?`); the sync probe expects it again. */
  identity: string | undefined;
  /** Servo state per stage axis as last read back. */
  servo: [boolean, boolean, boolean] = [false, false, false];
  private readonly axisNames: [string, string, string];
  private last: Vec3 = [0, 0, 0];
  private everConnected = false;
  private moving = false;

  constructor(
    id: string,
    clock: Clock,
    private readonly s: PiGcsSettings,
    private readonly world?: SimWorld,
    log?: Logger,
  ) {
    super(
      id,
      clock,
      {
        address: s.address,
        ...(s.baudRate ? { baudRate: s.baudRate } : {}),
        framing: gcsFraming(),
        replyTimeoutMs: s.replyTimeoutMs ?? 1000,
        sync: { command: '*IDN?\n', matches: (r) => this.identity === undefined || r === this.identity },
        watchdog: { intervalMs: s.watchdogMs ?? 1000, probe: { command: '\x07', matches: (r) => r === '\u00b1' || r === '\u00b0' } },
      },
      log?.child({ owner: id }),
    );
    const a = s.axes ?? { x: '1', y: '2', z: '3' };
    this.axisNames = [a.x, a.y, a.z];
    this.settleToleranceNm = s.settleToleranceNm ?? 10;
    const stream = `${id}.position`;
    this.position$ = defer(() => {
      let seq = 0;
      return interval(1000 / (s.readoutHz ?? 10), clock.scheduler).pipe(
        filter(() => this.state === 'ready' && !this.moving),
        mergeMap(() => from(this.readPosition().then((p) => ({ p, onTarget: true })).catch(() => undefined)), 1),
        filter((x): x is { p: Vec3; onTarget: boolean } => x !== undefined),
        mergeMap(({ p, onTarget }) => [makeFrame(stream, seq++, this.clock.nowNs(), Float64Array.from(p), [3], { onTarget })]),
      );
    }).pipe(share());
  }

  // ---------------- state read-back ----------------
  protected async verify(): Promise<void> {
    const idn = (await this.link.query('*IDN?\n')).trim();
    if (this.identity !== undefined && idn !== this.identity) throw new DriverError('CONFIG', this.id, `a different controller answers now: '${idn}' (was '${this.identity}')`);
    this.identity = idn;
    // Stale errors from before (a halt, a refused move) must not be taken for the next command's.
    for (let i = 0; i < 16 && (await this.errorCode()) !== 0; i++);
    const tmn = await this.axisQuery('TMN?');
    const tmx = await this.axisQuery('TMX?');
    this.minNm = tmn.map((v) => v * 1000) as Vec3;
    this.rangeNm = tmx.map((v) => v * 1000) as Vec3;
    const vel = await this.axisQuery('VEL?');
    this.maxVelocityNmPerMs = Math.min(...vel); // µm/s = nm/ms
    await this.readServo();
    if (!this.everConnected && this.s.servoOnConnect && !this.servo.every(Boolean)) {
      await this.setServo(true);
    }
    this.everConnected = true;
    await this.readPosition();
  }

  private async readServo(): Promise<void> {
    this.servo = (await this.axisQuery('SVO?')).map((v) => v === 1) as [boolean, boolean, boolean];
  }

  /** `CMD? 1 2 3` → values in stage axis order. */
  private async axisQuery(cmd: string): Promise<Vec3> {
    const reply = await this.link.query(`${cmd} ${this.axisNames.join(' ')}\n`);
    return this.parse(cmd, reply, (r) => {
      const map = new Map<string, number>();
      for (const line of r.split('\n')) {
        const m = /^\s*(\S+)=\s*(-?[\d.eE+-]+)\s*$/.exec(line);
        if (!m) return undefined;
        map.set(m[1]!, Number(m[2]));
      }
      const out = this.axisNames.map((n) => map.get(n));
      return out.every((v) => v !== undefined && Number.isFinite(v)) ? (out as Vec3) : undefined;
    });
  }

  private async errorCode(): Promise<number> {
    const r = await this.link.query('ERR?\n');
    return this.parse('ERR?', r, (x) => (/^\s*\d+\s*$/.test(x) ? Number(x) : undefined));
  }

  private refused(code: number, what: string): DriverError {
    const text = `${what} refused by the controller: error ${code} (${GCS_ERRORS[code] ?? 'see the controller manual'})`;
    if (code === 7 || code === 17) return new DeviceRefusedError(this.id, code, text, 'OUT_OF_RANGE');
    if (code === 10) return new DeviceRefusedError(this.id, code, text, 'ABORTED');
    return new DeviceRefusedError(this.id, code, text);
  }

  private async readPosition(): Promise<Vec3> {
    const um = await this.axisQuery('POS?');
    this.last = um.map((v) => v * 1000) as Vec3;
    if (this.s.hardwareInTheLoop && this.world) this.world.state.focusNm = [...this.last] as Vec3;
    return [...this.last] as Vec3;
  }

  private async setServo(on: boolean): Promise<void> {
    await this.link.exclusive(async (io) => {
      await io.send(`SVO ${this.axisNames.map((n) => `${n} ${on ? 1 : 0}`).join(' ')}\n`);
      const code = Number(await io.query('ERR?\n'));
      if (code !== 0) throw this.refused(code, 'SVO');
    });
    await this.readServo();
  }

  // ---------------- PiezoScanner ----------------
  /** The last read-back (the interface's synchronous read); `command_position` asks the controller. */
  position(): Vec3 {
    this.requireReady('position', true);
    return [...this.last] as Vec3;
  }

  home(opts: MoveOptions = {}): Promise<Vec3> {
    const h = this.s.homeUm ? (this.s.homeUm.map((v) => v * 1000) as Vec3) : (this.rangeNm.map((r, i) => (r + this.minNm[i]!) / 2) as Vec3);
    return this.moveTo(...h, opts);
  }

  async moveTo(x: number, y: number, z: number, opts: MoveOptions = {}): Promise<Vec3> {
    this.requireReady('moveTo');
    if (this.moving) throw new BusyError(this.id, 'moveTo');
    const target: Vec3 = [x, y, z];
    (['x', 'y', 'z'] as const).forEach((axis, i) => {
      const v = target[i]!;
      if (!(v >= this.minNm[i]! && v <= this.rangeNm[i]!)) throw new OutOfRangeError(this.id, axis, v, this.minNm[i]!, this.rangeNm[i]!, ' nm');
    });
    if (opts.signal?.aborted) throw new AbortedError(this.id, 'moveTo');
    this.moving = true;
    this.setState('busy');
    try {
      const cmd = `MOV ${this.axisNames.map((n, i) => `${n} ${(target[i]! / 1000).toFixed(6)}`).join(' ')}\n`;
      await this.link.exclusive(async (io) => {
        await io.send(cmd);
        const code = this.parse('ERR?', await io.query('ERR?\n'), (r) => (/^\s*\d+\s*$/.test(r) ? Number(r) : undefined));
        if (code !== 0) throw this.refused(code, 'MOV');
      });
      for (;;) {
        if (opts.signal?.aborted) {
          await this.halt();
          throw new AbortedError(this.id, 'moveTo');
        }
        const ont = await this.axisQuery('ONT?');
        if (ont.every((v) => v === 1)) break;
        await new Promise((r) => setTimeout(r, this.s.pollMs ?? POLL_MS));
      }
      const pos = await this.readPosition();
      this.moving = false;
      if (this.state === 'busy') this.setState('ready');
      return pos;
    } catch (err) {
      this.moving = false;
      if (this.state === 'busy') this.setState('ready');
      throw err;
    }
  }

  /** Stops every axis (HLT) and reads back the expected error 10. */
  async halt(): Promise<void> {
    await this.link.exclusive(async (io) => {
      await io.send(`HLT ${this.axisNames.join(' ')}\n`);
      const code = Number(await io.query('ERR?\n'));
      if (code !== 0 && code !== 10) throw this.refused(code, 'HLT');
    });
  }

  /** Session aborted or failed: stop the stage where it is (servo left as it is). */
  async safeState(): Promise<void> {
    if (this.link.state === 'open') await this.halt();
  }

  // ---------------- commands (API) ----------------
  command_moveTo(p: { x: number; y: number; z: number }): Promise<Vec3> {
    return this.moveTo(p.x, p.y, p.z);
  }
  command_home(): Promise<Vec3> {
    return this.home();
  }
  /** Asks the controller (POS?), not a cache. */
  command_position(): Promise<Vec3> {
    this.requireReady('position', true);
    return this.readPosition();
  }
  async command_servo(p: { on: boolean }): Promise<{ servo: boolean[] }> {
    this.requireReady('servo');
    await this.setServo(p.on);
    return { servo: [...this.servo] };
  }
  async command_halt(): Promise<void> {
    this.requireReady('halt', true);
    await this.halt();
  }
  async command_state(): Promise<{ identity: string | undefined; servo: boolean[]; onTarget: boolean[]; positionNm: Vec3 }> {
    this.requireReady('state', true);
    await this.readServo();
    const ont = await this.axisQuery('ONT?');
    return { identity: this.identity, servo: [...this.servo], onTarget: ont.map((v) => v === 1), positionNm: await this.readPosition() };
  }
}
