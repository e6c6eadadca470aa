/**
 * Simulated MRFM force sensor: a resonator + lock-in in the simulated world.
 * A measurement waits T_m of experiment time, then draws the in-minus-out
 * variance estimate from the noise model (model.ts) about the true spin
 * force variance σ_spin², which the sample gives for the stage position
 * (piezo, `world.state.focusNm`) and the rf pulse playing (`world.state.rfTables`).
 * Every measurement goes through `world.measure`, so a replay substitutes
 * the recording.
 */
import { Subject, type Observable } from 'rxjs';
import { BusyError, DriverError } from '../core/errors.js';
import { makeFrame, type Frame } from '../core/frame.js';
import { SimulatedDriver, type FaultSettings } from '../core/simulated.js';
import type { Measurement, SimWorld } from '../core/world.js';
import type { Rng } from '../core/rng.js';
import { armedPulses, type RfPulse } from '../rf/rf.js';
import {
  checkForceSettings,
  checkVarianceRequest,
  DEFAULT_FORCE_SETTINGS,
  FORCE_CHANNELS,
  FORCE_COMMANDS,
  type ForceSensor,
  type ForceSensorSettings,
  type ResonatorGeometry,
  type VarianceFields,
  type VarianceRequest,
} from './interface.js';
import { independentSamples, sampleVariance, thermalVariance } from './model.js';
import { buildMrfmScene, type MrfmScene } from './scene.js';

/** σ_spin² in aN² that the sample produces for `pulse` with the stage at `stageNm` (x, y, z). */
export type SpinVarianceSource = (pulse: RfPulse, stageNm: [number, number, number], geometry: ResonatorGeometry) => number;

export interface ForceSimSettings extends Partial<ForceSensorSettings> {
  /** rf generator whose armed table holds the pulses (default: every armed table, concatenated). */
  rf?: string;
  /** Spin correlation time τ_m of the sample, ms (Table 1: 20). */
  spinCorrelationMs?: number;
  faults?: FaultSettings;
  /** The sample's signal (default: the world's `mrfm` scene, drivers/force/scene.ts); tests pass their own. */
  source?: SpinVarianceSource;
}

/** Largest quadrature block emitted per measurement (samples). */
const MAX_BLOCK = 1 << 16;

export class SimulatedForce extends SimulatedDriver implements ForceSensor {
  readonly kind = 'force' as const;
  override readonly channels = FORCE_CHANNELS;
  override readonly commands = FORCE_COMMANDS;
  readonly quadratures$: Observable<Frame<Float64Array>>;
  private readonly s: ForceSensorSettings;
  private readonly rfId: string | undefined;
  private readonly tauS: number;
  private readonly source: SpinVarianceSource | undefined;
  private scene: MrfmScene | undefined;
  private readonly quadSubject = new Subject<Frame<Float64Array>>();
  private readonly quadRng: Rng;
  private quadSeq = 0;
  private measuring = false;

  constructor(id: string, world: SimWorld, settings: ForceSimSettings = {}) {
    super(id, world, settings.faults);
    const { rf, spinCorrelationMs, faults: _f, source, ...rest } = settings;
    this.s = checkForceSettings(id, { ...DEFAULT_FORCE_SETTINGS, ...rest });
    this.rfId = rf;
    this.source = source;
    if (!source) this.scene = world.scene('mrfm', buildMrfmScene);
    const tau = spinCorrelationMs ?? this.scene?.tauMs ?? 20;
    if (!(tau > 0) || !Number.isFinite(tau)) throw new RangeError(`${id}.spinCorrelationMs: must be a finite number > 0, got ${tau}`);
    this.tauS = tau / 1000;
    this.quadRng = world.rng(`quadratures/${id}`);
    this.quadratures$ = this.quadSubject.asObservable();
  }

  settings(): ForceSensorSettings {
    return { ...this.s };
  }

  async measureVariance(req: VarianceRequest): Promise<Measurement<Float64Array>> {
    checkVarianceRequest(req);
    if (this.measuring) throw new BusyError(this.id, 'measureVariance (a measurement is running)');
    this.measuring = true;
    let pulses: RfPulse[];
    let stage: [number, number, number] | undefined;
    try {
      await this.operation('measureVariance');
      pulses = armedPulses(this.world.state, this.rfId);
      if (!pulses[req.pulse]) throw new DriverError('CONFIG', this.id, `pulse ${req.pulse}: no such pulse in the armed rf table (${pulses.length} pulses armed)`);
      stage = this.world.state.focusNm ? ([...this.world.state.focusNm] as [number, number, number]) : undefined;
      // the sample's noiseless images for this table (native, off the event loop; the clock waits)
      if (stage && this.scene) await this.clock.hold(this.scene.prepare(pulses, this.scene.offsetNm(stage[2]), this.s.geometry));
      this.setState('busy');
      try {
        await this.wait(req.Tm * 1000);
      } catch (err) {
        throw this.fail(err);
      } finally {
        if (this.state === 'busy') this.setState('ready');
      }
    } finally {
      this.measuring = false;
    }
    const pulse = pulses[req.pulse]!;
    const thVar = thermalVariance(this.s.sThAnPerRtHz, this.s.bandwidthHz);
    const k = independentSamples(req.Tm, this.tauS);
    const spinVar = !stage ? 0 : this.source ? this.source(pulse, stage, this.s.geometry) : this.scene!.variance(pulse, stage, this.s.geometry);
    const m = this.world.measure(`${this.id}.variance`, () => {
      const r = sampleVariance(this.rng, spinVar, thVar, k, pulses.length);
      const samples = Math.max(2, Math.round(req.Tm * this.s.lockinRateHz));
      const fields: VarianceFields = { pulse: req.pulse, Tm: req.Tm, inVariance: r.inVariance, outVariance: r.outVariance, samples, ...(stage ? { positionNm: stage } : {}) };
      return { payload: Float64Array.of(r.variance, r.standardError), shape: [2], fields: { ...fields } };
    });
    if (this.quadSubject.observed) this.emitQuadratures(req, spinVar, thVar);
    return m;
  }

  /**
   * A block of lock-in samples for subscribers: Gaussian X with variance
   * σ_spin² + σ_th² and Y with σ_th², from their own generator (so watching
   * never changes the variance results).
   */
  private emitQuadratures(req: VarianceRequest, spinVar: number, thVar: number): void {
    const n = Math.min(MAX_BLOCK, Math.max(2, Math.round(req.Tm * this.s.lockinRateHz)));
    const out = new Float64Array(2 * n);
    const sx = Math.sqrt(spinVar + thVar);
    const sy = Math.sqrt(thVar);
    for (let i = 0; i < n; i++) {
      out[2 * i] = sx * this.quadRng.normal();
      out[2 * i + 1] = sy * this.quadRng.normal();
    }
    this.quadSubject.next(makeFrame(`${this.id}.quadratures`, this.quadSeq++, this.clock.nowNs(), out, [n, 2], { rateHz: this.s.lockinRateHz, pulse: req.pulse }));
  }

  async command_measureVariance(p: { pulse: number; Tm: number }): Promise<Measurement<Float64Array>> {
    return this.measureVariance(p);
  }
  async command_settings(): Promise<ForceSensorSettings> {
    return this.settings();
  }
}
