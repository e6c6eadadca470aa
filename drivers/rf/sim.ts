/** Simulated rf pulse generator: range-checked table, arm/trigger, table published into the world. */
import { BusyError, DriverError, OutOfRangeError } from '../core/errors.js';
import { SimulatedDriver, type FaultSettings } from '../core/simulated.js';
import type { SimWorld } from '../core/world.js';
import { DEFAULT_RF_LIMITS, NotArmedError, RF_PULSE_SCHEMA, rfTables, type RfLimits, type RfPulse, type RfPulseGenerator } from './rf.js';

export interface SimRfOptions {
  limits?: Partial<RfLimits>;
  faults?: FaultSettings;
}

export class SimulatedRf extends SimulatedDriver implements RfPulseGenerator {
  readonly kind = 'rf';
  readonly limits: RfLimits;
  private table: RfPulse[] = [];
  private isArmed = false;

  override readonly channels = [{ name: 'table', dtype: 'f64' as const, unit: 'Hz,Hz,us,deg', access: 'read' as const, description: 'pulse table, one row per pulse' }];
  override readonly commands = {
    setPulses: { description: 'replace the pulse table (refused while armed)', mutating: true, params: { type: 'object', additionalProperties: false, required: ['pulses'], properties: { pulses: { type: 'array', maxItems: 65_536, items: RF_PULSE_SCHEMA } } } },
    arm: { description: 'arm the table: it plays on each trigger', mutating: true, params: { type: 'object', additionalProperties: false, properties: {} } },
    disarm: { description: 'stop responding to triggers (rf off)', mutating: true, params: { type: 'object', additionalProperties: false, properties: {} } },
    trigger: { description: 'software trigger: play the table once', mutating: true, params: { type: 'object', additionalProperties: false, properties: {} } },
    pulses: { description: 'the current pulse table', mutating: false, params: { type: 'object', additionalProperties: false, properties: {} } },
  };

  constructor(id: string, world: SimWorld, opts: SimRfOptions = {}) {
    super(id, world, opts.faults);
    this.limits = { ...DEFAULT_RF_LIMITS, ...opts.limits };
    this.publish();
  }

  get armed(): boolean {
    return this.isArmed;
  }

  pulses(): readonly RfPulse[] {
    return this.table.map((p) => ({ ...p }));
  }

  async setPulses(pulses: RfPulse[]): Promise<void> {
    await this.operation('setPulses');
    if (this.isArmed) throw new BusyError(this.id, 'setPulses (table armed; disarm first)');
    const checked = this.check(pulses);
    this.table = checked;
    this.publish();
  }

  async arm(): Promise<void> {
    await this.operation('arm');
    if (this.table.length === 0) throw new DriverError('CONFIG', this.id, 'arm refused: the pulse table is empty');
    this.isArmed = true;
    this.publish(0);
  }

  async disarm(): Promise<void> {
    await this.operation('disarm');
    this.isArmed = false;
    this.publish();
  }

  async trigger(): Promise<void> {
    await this.operation('trigger');
    if (!this.isArmed) throw new NotArmedError(this.id);
    const total = this.table.reduce((s, p) => s + p.durationUs, 0);
    try {
      await this.wait(total / 1000);
    } catch (err) {
      throw this.fail(err);
    }
    const t = rfTables(this.world.state)[this.id];
    if (t) t.triggers++;
  }

  /** rf off when a session ends abnormally. */
  async safeState(): Promise<void> {
    this.isArmed = false;
    this.publish();
  }

  protected override async doDisconnect(): Promise<void> {
    await super.doDisconnect();
    // An instrument that lost its link plays nothing.
    this.isArmed = false;
    this.publish();
  }

  async command_setPulses(p: { pulses: RfPulse[] }): Promise<{ pulses: number }> {
    await this.setPulses(p.pulses);
    return { pulses: this.table.length };
  }
  async command_arm(): Promise<void> {
    await this.arm();
  }
  async command_disarm(): Promise<void> {
    await this.disarm();
  }
  async command_trigger(): Promise<void> {
    await this.trigger();
  }
  async command_pulses(): Promise<readonly RfPulse[]> {
    return this.pulses();
  }

  private check(pulses: unknown): RfPulse[] {
    if (!Array.isArray(pulses)) throw new DriverError('CONFIG', this.id, 'pulses: must be an array');
    const L = this.limits;
    if (pulses.length > L.maxPulses) throw new OutOfRangeError(this.id, 'pulses.length', pulses.length, 0, L.maxPulses);
    return pulses.map((raw, i) => {
      const p = raw as Partial<RfPulse>;
      for (const key of ['frequencyHz', 'bandwidthHz', 'durationUs'] as const) {
        if (typeof p[key] !== 'number' || !Number.isFinite(p[key])) throw new DriverError('CONFIG', this.id, `pulses[${i}].${key}: must be a finite number`);
      }
      const phase = p.phaseDeg ?? 0;
      if (typeof phase !== 'number' || !Number.isFinite(phase)) throw new DriverError('CONFIG', this.id, `pulses[${i}].phaseDeg: must be a finite number`);
      const range = (what: string, v: number, lo: number, hi: number, unit: string) => {
        if (!(v >= lo && v <= hi)) throw new OutOfRangeError(this.id, `pulses[${i}].${what}`, v, lo, hi, unit);
      };
      range('frequencyHz', p.frequencyHz!, L.frequencyHz[0], L.frequencyHz[1], ' Hz');
      range('bandwidthHz', p.bandwidthHz!, 0, L.maxBandwidthHz, ' Hz');
      range('durationUs', p.durationUs!, L.durationUs[0], L.durationUs[1], ' us');
      return { frequencyHz: p.frequencyHz!, bandwidthHz: p.bandwidthHz!, durationUs: p.durationUs!, phaseDeg: ((phase % 360) + 360) % 360 };
    });
  }

  private publish(triggers?: number): void {
    const tables = rfTables(this.world.state);
    tables[this.id] = { pulses: this.pulses(), armed: this.isArmed, triggers: triggers ?? tables[this.id]?.triggers ?? 0 };
  }
}
