/**
 * `impl: bridge` force sensor: the MRFM resonator read by a lock-in behind a
 * bridge (docs/BRIDGE.md, kind `force`; bridges/zi_mfli.py). The bridge
 * delivers the demodulated (X, Y) samples of a measurement; qscope computes
 * the in-minus-out variance from them (inMinusOut, Eq. 16–18) with
 * T_m/τ_m independent spin configurations, and publishes the samples on
 * `quadratures$`. Resonator and lock-in settings are read at connect.
 */
import { Subject, type Observable } from 'rxjs';
import { BridgeDriver } from '../core/bridge/driver.js';
import type { BridgeSettings } from '../core/bridge/settings.js';
import type { Clock } from '../core/clock.js';
import { BusyError, DriverError } from '../core/errors.js';
import { makeFrame, type Frame } from '../core/frame.js';
import type { Measurement, SimWorld } from '../core/world.js';
import { FORCE_CHANNELS, FORCE_COMMANDS, checkForceSettings, checkVarianceRequest, inMinusOut, type ForceSensor, type ForceSensorSettings, type VarianceFields, type VarianceRequest } from './interface.js';

export interface ForceBridgeSettings extends BridgeSettings {
  /** τ_m of the sample spins, ms (20): T_m/τ_m independent configurations per measurement. */
  spinCorrelationMs?: number;
}

export class BridgeForce extends BridgeDriver implements ForceSensor {
  readonly kind = 'force' as const;
  override readonly channels = FORCE_CHANNELS;
  override readonly commands = { ...FORCE_COMMANDS }; // own copy: the bridge's extra commands are added to it
  private s: ForceSensorSettings | undefined;
  private readonly quadSubject = new Subject<Frame<Float64Array>>();
  readonly quadratures$: Observable<Frame<Float64Array>> = this.quadSubject.asObservable();
  private quadSeq = 0;
  private measuring = false;
  private readonly tauS: number;

  constructor(
    id: string,
    clock: Clock,
    settings: ForceBridgeSettings,
    private readonly world?: SimWorld,
  ) {
    super(id, clock, settings);
    const tau = settings.spinCorrelationMs ?? 20;
    if (!(tau > 0) || !Number.isFinite(tau)) throw new RangeError(`${id}.spinCorrelationMs: must be a finite number > 0, got ${tau}`);
    this.tauS = tau / 1000;
  }

  settings(): ForceSensorSettings {
    if (!this.s) throw new DriverError('NOT_CONNECTED', this.id, 'settings are read from the bridge at connect');
    return { ...this.s };
  }

  protected async verify(): Promise<void> {
    const { result } = await this.request('settings');
    let s: ForceSensorSettings;
    try {
      s = checkForceSettings(`${this.id} bridge settings`, result as ForceSensorSettings);
    } catch (err) {
      throw new DriverError('GARBAGE', this.id, (err as Error).message);
    }
    const now: ForceSensorSettings = { geometry: s.geometry, resonanceHz: s.resonanceHz, q: s.q, temperatureK: s.temperatureK, sThAnPerRtHz: s.sThAnPerRtHz, bandwidthHz: s.bandwidthHz, lockinRateHz: s.lockinRateHz };
    if (this.s && JSON.stringify(this.s) !== JSON.stringify(now)) throw new DriverError('CONFIG', this.id, `the lock-in settings changed since the last connection (${JSON.stringify(this.s)} → ${JSON.stringify(now)})`);
    this.s = now;
  }

  async measureVariance(req: VarianceRequest): Promise<Measurement<Float64Array>> {
    checkVarianceRequest(req);
    if (this.measuring) throw new BusyError(this.id, 'measureVariance (a measurement is running)');
    this.requireReady('measureVariance');
    this.measuring = true;
    const f = this.world?.state.focusNm;
    const stage = f ? ([f[0], f[1], f[2]] as [number, number, number]) : undefined;
    this.setState('busy');
    let frame;
    try {
      frame = await this.measure('quadratures', { Tm: req.Tm }, req.Tm * 1000);
    } finally {
      this.measuring = false;
      if (this.state === 'busy') this.setState('ready');
    }
    const q = frame.payload;
    if (!(q instanceof Float64Array) || frame.shape.length !== 2 || frame.shape[1] !== 2 || frame.shape[0]! < 2) throw this.garbage(`quadratures: expected f64 [n ≥ 2, 2], got ${q.constructor.name} [${frame.shape.join(', ')}]`);
    const n = frame.shape[0]!;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = q[2 * i]!;
      y[i] = q[2 * i + 1]!;
    }
    const r = inMinusOut(x, y, req.Tm / this.tauS);
    const fields: VarianceFields = { pulse: req.pulse, Tm: req.Tm, inVariance: r.inVariance, outVariance: r.outVariance, samples: n, ...(stage ? { positionNm: stage } : {}) };
    if (this.quadSubject.observed) this.quadSubject.next(makeFrame(`${this.id}.quadratures`, this.quadSeq++, this.clock.nowNs(), q, [n, 2], { rateHz: this.settings().lockinRateHz, pulse: req.pulse }));
    return { payload: Float64Array.of(r.variance, r.standardError), shape: [2], fields: { ...fields } };
  }

  async command_measureVariance(p: { pulse: number; Tm: number }): Promise<Measurement<Float64Array>> {
    return this.measureVariance(p);
  }
  async command_settings(): Promise<ForceSensorSettings> {
    return this.settings();
  }
}
