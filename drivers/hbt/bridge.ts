/**
 * `impl: bridge` correlator: a time tagger behind a vendor-SDK bridge
 * (docs/BRIDGE.md, kind `hbt`). Same interface and frames as the simulator:
 * payload u32[bins], fields {integrationS, binWidthNs, zeroBin, jitterNs,
 * counts, events}. The delay axis is read at connect and must not change
 * between connections (a resume after a bridge restart checks it).
 */
import { BridgeDriver } from '../core/bridge/driver.js';
import type { BridgeSettings } from '../core/bridge/settings.js';
import type { Clock } from '../core/clock.js';
import { DriverError, NotConnectedError } from '../core/errors.js';
import type { Measurement } from '../core/world.js';
import { HBT_CHANNELS, HBT_COMMANDS, type HbtCorrelator, type HistogramFields } from './interface.js';
import { checkGeometry, type HbtGeometry } from './model.js';

export class BridgeHbt extends BridgeDriver implements HbtCorrelator {
  readonly kind = 'hbt';
  override readonly channels = HBT_CHANNELS;
  override readonly commands = { ...HBT_COMMANDS }; // own copy: the bridge's extra commands are added to it
  private geom: HbtGeometry | undefined;

  constructor(id: string, clock: Clock, settings: BridgeSettings) {
    super(id, clock, settings);
  }

  get geometry(): HbtGeometry {
    if (!this.geom) throw new NotConnectedError(this.id, 'geometry (read from the bridge at connect)');
    return this.geom;
  }

  protected async verify(): Promise<void> {
    const { result } = await this.request('geometry');
    const g = result as HbtGeometry;
    try {
      checkGeometry(g, `${this.id} bridge geometry`);
    } catch (err) {
      throw new DriverError('GARBAGE', this.id, (err as Error).message);
    }
    const now: HbtGeometry = { bins: g.bins, binWidthNs: g.binWidthNs, zeroBin: g.zeroBin, jitterNs: g.jitterNs };
    if (this.geom && JSON.stringify(this.geom) !== JSON.stringify(now))
      throw new DriverError('CONFIG', this.id, `the bridge's delay axis changed since the last connection (${JSON.stringify(this.geom)} → ${JSON.stringify(now)})`);
    this.geom = now;
  }

  async histogram(integrationMs: number): Promise<Measurement<Uint32Array>> {
    checkIntegration(integrationMs);
    this.requireReady('histogram');
    this.setState('busy');
    try {
      const f = await this.measure('histogram', { integrationMs }, integrationMs);
      const g = this.geometry;
      if (!(f.payload instanceof Uint32Array) || f.payload.length !== g.bins) throw this.garbage(`histogram: expected u32[${g.bins}], got ${f.payload.constructor.name}[${f.payload.length}]`);
      const x = f.fields;
      const num = (k: string): number => {
        if (typeof x[k] !== 'number') throw this.garbage(`histogram: field ${k} missing or not a number`);
        return x[k] as number;
      };
      const fields: HistogramFields = { integrationS: num('integrationS'), binWidthNs: num('binWidthNs'), zeroBin: num('zeroBin'), jitterNs: num('jitterNs'), counts: num('counts'), events: num('events') };
      return { payload: f.payload, fields: { ...fields } };
    } finally {
      if (this.state === 'busy') this.setState('ready');
    }
  }

  async countRate(integrationMs: number): Promise<Measurement<Float64Array>> {
    checkIntegration(integrationMs);
    this.requireReady('countRate');
    const f = await this.measure('countRate', { integrationMs }, integrationMs);
    if (!(f.payload instanceof Float64Array) || f.payload.length !== 1) throw this.garbage(`countRate: expected f64[1], got ${f.payload.constructor.name}[${f.payload.length}]`);
    const { counts, integrationS } = f.fields;
    if (typeof counts !== 'number' || typeof integrationS !== 'number') throw this.garbage('countRate: fields counts and integrationS must be numbers');
    return { payload: f.payload, fields: { counts, integrationS } };
  }

  async command_histogram(p: { integrationMs: number }): Promise<Measurement<Uint32Array>> {
    return this.histogram(p.integrationMs);
  }
  async command_countRate(p: { integrationMs: number }): Promise<Measurement<Float64Array>> {
    return this.countRate(p.integrationMs);
  }
  async command_geometry(): Promise<HbtGeometry> {
    return { ...this.geometry };
  }
}

function checkIntegration(ms: number): void {
  if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`integrationMs: must be a finite number > 0, got ${ms}`);
}
