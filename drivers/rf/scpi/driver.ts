/**
 * SCPI rf source adapter (`impl: scpi-rf`): R&S SMB100A/SGS100A, Keysight
 * N518x MXG and SRS SG384 (the `dialect` setting; dialects.ts lists what
 * each supports), over raw TCP (port 5025) or serial. Implements the rf
 * pulse-generator interface of drivers/rf/rf.ts on a CW source: one pulse is
 * a CW frequency, several pulses become list mode (one frequency per
 * external trigger), `arm` enables pulse modulation from the external
 * trigger and the output, `disarm` switches the output off.
 *
 * Every mutating command is followed by `*OPC?` and the error queue is read
 * until empty (`SYST:ERR?` / `LERR?`): a refusal is a typed error at once
 * (−222 → OUT_OF_RANGE, others DEVICE). On (re)connect it reads identity,
 * frequency, power and output state back; it never switches the output on.
 */
import type { Clock } from '../../core/clock.js';
import { BusyError, DeviceRefusedError, DriverError, OutOfRangeError } from '../../core/errors.js';
import { lineFraming } from '../../core/io/framing.js';
import { LinkedDriver, type LinkSettings } from '../../core/io/linked.js';
import type { LinkIo } from '../../core/io/link.js';
import type { Logger } from '../../core/log.js';
import type { SimWorld } from '../../core/world.js';
import { DEFAULT_RF_LIMITS, NotArmedError, RF_PULSE_SCHEMA, rfTables, type RfPulse, type RfPulseGenerator } from '../rf.js';
import { DIALECTS, type DialectName, type ScpiDialect } from './dialects.js';

export interface ScpiRfSettings extends LinkSettings {
  dialect: DialectName;
  /** Power of every pulse, dBm. */
  powerDbm?: number;
  /** Widest pulse bandwidth accepted (played as CW at its centre frequency), Hz; default 0: CW pulses only. */
  maxBandwidthHz?: number;
  /** Frequency limits enforced before anything is sent, Hz. */
  frequencyHz?: [number, number];
  /** Hardware in the loop: publish the armed table into the simulated world (simulated detectors see it). */
  hardwareInTheLoop?: boolean;
}

export interface ScpiRfState {
  identity: string | undefined;
  frequencyHz: number;
  powerDbm: number;
  output: boolean;
}

const EMPTY = { type: 'object', additionalProperties: false, properties: {} } as const;

export class ScpiRf extends LinkedDriver implements RfPulseGenerator {
  readonly kind = 'rf';
  readonly impl = 'scpi-rf';
  override readonly channels = [{ name: 'table', dtype: 'f64' as const, unit: 'Hz,Hz,us,deg', access: 'read' as const, description: 'pulse table, one row per pulse' }];
  override readonly commands = {
    setPulses: { description: 'replace the pulse table (refused while armed)', mutating: true, params: { type: 'object', additionalProperties: false, required: ['pulses'], properties: { pulses: { type: 'array', items: RF_PULSE_SCHEMA } } } },
    arm: { description: 'pulse modulation from the external trigger, output on', mutating: true, params: EMPTY },
    disarm: { description: 'output off', mutating: true, params: EMPTY },
    trigger: { description: 'software trigger (*TRG)', mutating: true, params: EMPTY },
    pulses: { description: 'the current pulse table', mutating: false, params: EMPTY },
    cw: { description: 'CW frequency (Hz) and power (dBm)', mutating: true, params: { type: 'object', additionalProperties: false, required: ['frequencyHz'], properties: { frequencyHz: { type: 'number', unit: 'Hz' }, powerDbm: { type: 'number', unit: 'dBm' } } } },
    output: { description: 'switch the rf output on or off', mutating: true, params: { type: 'object', additionalProperties: false, required: ['on'], properties: { on: { type: 'boolean' } } } },
    state: { description: 'identity, frequency, power and output as the instrument reports them now', mutating: false, params: EMPTY },
  };
  readonly dialect: ScpiDialect;
  /** As last read back from the instrument. */
  readonly device: ScpiRfState = { identity: undefined, frequencyHz: 0, powerDbm: 0, output: false };
  private table: RfPulse[] = [];
  private isArmed = false;
  private readonly limits: [number, number];

  constructor(
    id: string,
    clock: Clock,
    private readonly s: ScpiRfSettings,
    private readonly world?: SimWorld,
    log?: Logger,
  ) {
    super(
      id,
      clock,
      {
        address: s.address,
        ...(s.baudRate ? { baudRate: s.baudRate } : {}),
        framing: lineFraming(),
        replyTimeoutMs: s.replyTimeoutMs ?? 2000,
        sync: { command: '*IDN?\n', matches: (r) => this.device.identity === undefined || r === this.device.identity },
        watchdog: { intervalMs: s.watchdogMs ?? 2000 },
      },
      log?.child({ owner: id }),
    );
    const d = DIALECTS[s.dialect];
    if (!d) throw new DriverError('CONFIG', id, `dialect '${s.dialect}' unknown (known: ${Object.keys(DIALECTS).join(', ')})`);
    this.dialect = d;
    this.limits = s.frequencyHz ?? [9e3, 6e9];
  }

  get armed(): boolean {
    return this.isArmed;
  }

  protected async verify(): Promise<void> {
    const idn = (await this.link.query('*IDN?\n')).trim();
    if (this.device.identity !== undefined && idn !== this.device.identity) throw new DriverError('CONFIG', this.id, `a different instrument answers now: '${idn}' (was '${this.device.identity}')`);
    this.device.identity = idn;
    await this.link.exclusive((io) => this.drainErrors(io, true));
    await this.readState();
    // Output state as the instrument reports it; an output found off after a reconnect means disarmed.
    if (!this.device.output) this.isArmed = false;
    this.publish();
  }

  private async readState(): Promise<ScpiRfState> {
    const d = this.dialect;
    this.device.frequencyHz = this.parse(d.getFrequency, await this.link.query(`${d.getFrequency}\n`), numberOf);
    this.device.powerDbm = this.parse(d.getPower, await this.link.query(`${d.getPower}\n`), numberOf);
    this.device.output = this.parse(d.getOutput, await this.link.query(`${d.getOutput}\n`), (r) => d.parseOutput(r));
    return { ...this.device };
  }

  /** Reads the error queue until empty; the first error is thrown typed (unless `ignore`: stale errors at connect). */
  private async drainErrors(io: LinkIo, ignore = false, what = 'command'): Promise<void> {
    let first: { code: number; message: string } | undefined;
    for (let i = 0; i < 32; i++) {
      const e = this.parse(this.dialect.errorQuery, await io.query(`${this.dialect.errorQuery}\n`), (r) => this.dialect.parseError(r));
      if (e.code === 0) break;
      first ??= e;
    }
    if (first && !ignore) {
      const text = `${what} refused by the instrument: ${first.code} ${first.message}`;
      throw new DeviceRefusedError(this.id, first.code, text, Math.abs(first.code) === 222 ? 'OUT_OF_RANGE' : 'DEVICE');
    }
  }

  /** Sends mutating commands as one block, waits (*OPC?) and checks the error queue. */
  private mutate(cmds: string[]): Promise<void> {
    this.requireReady(cmds[0] ?? 'command');
    return this.link.exclusive(async (io) => {
      for (const c of cmds) await io.send(`${c}\n`);
      this.parse('*OPC?', await io.query('*OPC?\n'), (r) => (r.trim() === '1' ? 1 : undefined));
      await this.drainErrors(io, false, cmds.map((c) => c.split(' ')[0]).join('; '));
    });
  }

  private checkFrequency(what: string, hz: number): void {
    if (!(hz >= this.limits[0] && hz <= this.limits[1])) throw new OutOfRangeError(this.id, what, hz, this.limits[0], this.limits[1], ' Hz');
  }

  pulses(): readonly RfPulse[] {
    return this.table.map((p) => ({ ...p }));
  }

  async setPulses(pulses: RfPulse[]): Promise<void> {
    if (this.isArmed) throw new BusyError(this.id, 'setPulses (table armed; disarm first)');
    if (pulses.length === 0) throw new DriverError('CONFIG', this.id, 'setPulses: the table is empty');
    const maxBw = this.s.maxBandwidthHz ?? 0;
    pulses.forEach((p, i) => {
      this.checkFrequency(`pulses[${i}].frequencyHz`, p.frequencyHz);
      if (!(p.bandwidthHz >= 0 && p.bandwidthHz <= maxBw)) throw new OutOfRangeError(this.id, `pulses[${i}].bandwidthHz (a CW source; raise maxBandwidthHz to play it at its centre)`, p.bandwidthHz, 0, maxBw, ' Hz');
      if (!(p.durationUs >= DEFAULT_RF_LIMITS.durationUs[0] && p.durationUs <= DEFAULT_RF_LIMITS.durationUs[1])) throw new OutOfRangeError(this.id, `pulses[${i}].durationUs`, p.durationUs, DEFAULT_RF_LIMITS.durationUs[0], DEFAULT_RF_LIMITS.durationUs[1], ' us');
    });
    const d = this.dialect;
    const power = this.s.powerDbm ?? -10;
    let cmds: string[];
    if (pulses.length === 1) cmds = [d.setFrequency(pulses[0]!.frequencyHz), d.setPower(power), ...(d.listOff ?? [])];
    else {
      if (!d.list) throw new DriverError('CONFIG', this.id, `setPulses: ${pulses.length} pulses need list mode, which dialect '${d.name}' has not (one pulse only)`);
      cmds = d.list(
        pulses.map((p) => p.frequencyHz),
        power,
        pulses[0]!.durationUs / 1e6,
      );
    }
    await this.mutate(cmds);
    this.table = pulses.map((p) => ({ frequencyHz: p.frequencyHz, bandwidthHz: p.bandwidthHz, durationUs: p.durationUs, phaseDeg: (((p.phaseDeg ?? 0) % 360) + 360) % 360 }));
    this.publish();
  }

  async arm(): Promise<void> {
    if (this.table.length === 0) throw new DriverError('CONFIG', this.id, 'arm refused: the pulse table is empty');
    await this.mutate([...(this.dialect.pulseExternal ?? []), this.dialect.setOutput(true)]);
    this.isArmed = true;
    this.device.output = true;
    this.publish(0);
  }

  async disarm(): Promise<void> {
    await this.mutate([this.dialect.setOutput(false), ...(this.dialect.pulseOff ?? [])]);
    this.isArmed = false;
    this.device.output = false;
    this.publish();
  }

  async trigger(): Promise<void> {
    if (!this.isArmed) throw new NotArmedError(this.id);
    if (!this.dialect.trigger) throw new DriverError('CONFIG', this.id, `trigger: dialect '${this.dialect.name}' has no software trigger`);
    await this.mutate([this.dialect.trigger]);
    const t = rfTables(this.world?.state ?? {})[this.id];
    if (t) t.triggers++;
  }

  /** rf off when a session ends abnormally (only when the link is up: nothing is queued for later). */
  async safeState(): Promise<void> {
    if (this.link.state !== 'open') return;
    await this.link.exclusive((io) => io.send(`${this.dialect.setOutput(false)}\n`));
    this.isArmed = false;
    this.device.output = false;
    this.publish();
  }

  private publish(triggers?: number): void {
    if (!this.s.hardwareInTheLoop || !this.world) return;
    const tables = rfTables(this.world.state);
    tables[this.id] = { pulses: this.pulses(), armed: this.isArmed, triggers: triggers ?? tables[this.id]?.triggers ?? 0 };
  }

  // ---- commands (API) ----
  async command_setPulses(p: { pulses: RfPulse[] }): Promise<{ pulses: number }> {
    await this.setPulses(p.pulses);
    return { pulses: this.table.length };
  }
  command_arm(): Promise<void> {
    return this.arm();
  }
  command_disarm(): Promise<void> {
    return this.disarm();
  }
  command_trigger(): Promise<void> {
    return this.trigger();
  }
  async command_pulses(): Promise<readonly RfPulse[]> {
    return this.pulses();
  }
  async command_cw(p: { frequencyHz: number; powerDbm?: number }): Promise<ScpiRfState> {
    this.checkFrequency('frequencyHz', p.frequencyHz);
    await this.mutate([this.dialect.setFrequency(p.frequencyHz), ...(p.powerDbm !== undefined ? [this.dialect.setPower(p.powerDbm)] : [])]);
    return this.readState();
  }
  async command_output(p: { on: boolean }): Promise<ScpiRfState> {
    await this.mutate([this.dialect.setOutput(p.on)]);
    if (!p.on) this.isArmed = false;
    return this.readState();
  }
  /** Asks the instrument (not a cache). */
  command_state(): Promise<ScpiRfState> {
    this.requireReady('state', true);
    return this.readState();
  }
}

function numberOf(r: string): number | undefined {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(r) ? Number(r) : undefined;
}
