/**
 * Simulated NV ODMR readout for the cosy-2d experiment. The physics (signal
 * from the NV–13C Hamiltonian, readout shot noise) is in ./physics.ts, with
 * its derivation. What this driver adds: the scene (`world.scene('nuclei')`),
 * the rf mixing pulse read from the world's pulse tables, experiment time per
 * point, faults, and the replay seam (`world.measure`).
 *
 * The π/2 mixing pulse: the plan programs it on the rf generator. When an
 * armed pulse's band covers the nuclear lines, the COSY signal results; with
 * none, there is no coherence transfer and the nuclei simply precess through
 * t1 + t2 (signal Σ w_k cos 2πf_k(t1+t2)): a plan that forgets the rf sees it.
 */
import { DriverError, OutOfRangeError } from '../core/errors.js';
import { SimulatedDriver, type FaultSettings } from '../core/simulated.js';
import type { Measurement, SimWorld } from '../core/world.js';
import { armedPulses, rfTables } from '../rf/rf.js';
import { EVOLUTION_RANGE_US, type CorrelationPoint, type OdmrReadout } from './odmr.js';
import { cosySignal, DEFAULT_COSY_PARAMS, DEFAULT_READOUT, sampleReadout, spinSystem, type CosyParams, type ReadoutParams, type SpinSystem } from './physics.js';
import { buildNuclei } from './scene.js';

export interface SimOdmrOptions {
  physics?: Partial<CosyParams>;
  readout?: Partial<ReadoutParams>;
  /** Sequence overhead per readout besides t1 + t2 (laser, two DD blocks), µs. */
  overheadUs?: number;
  /** Id of the rf generator carrying the mixing pulse; default: any armed generator. */
  rf?: string;
  faults?: FaultSettings;
}

export class SimulatedOdmr extends SimulatedDriver implements OdmrReadout {
  readonly kind = 'odmr';
  readonly physics: CosyParams;
  readonly readout: ReadoutParams;
  readonly overheadUs: number;
  private readonly rfId: string | undefined;
  private readonly system: SpinSystem;

  override readonly channels = [{ name: 'population', dtype: 'f64' as const, unit: '1', access: 'stream' as const, description: 'P(ms=0) averaged over the readouts; header: t1Us, t2Us, readouts, photons, mixing' }];
  override readonly commands = {
    correlation: {
      description: 'correlation protocol at (t1, t2): averaged ms=0 population',
      mutating: true,
      params: {
        type: 'object',
        additionalProperties: false,
        required: ['t1Us', 't2Us'],
        properties: { t1Us: { type: 'number', unit: 'us' }, t2Us: { type: 'number', unit: 'us' }, readouts: { type: 'integer', minimum: 1, maximum: 1_000_000_000 } },
      },
    },
  };

  constructor(id: string, world: SimWorld, opts: SimOdmrOptions = {}) {
    super(id, world, opts.faults);
    this.physics = { ...DEFAULT_COSY_PARAMS, ...opts.physics };
    this.readout = { ...DEFAULT_READOUT, ...opts.readout };
    this.overheadUs = opts.overheadUs ?? 170;
    this.rfId = opts.rf;
    this.system = spinSystem(world.scene('nuclei', buildNuclei), this.physics);
  }

  /** Precession frequencies (Hz) and couplings of the scene's nuclei, as the Hamiltonian gives them. */
  spinSystem(): SpinSystem {
    return this.system;
  }

  async correlation(point: CorrelationPoint): Promise<Measurement<Float64Array>> {
    await this.operation('correlation');
    const { t1Us, t2Us } = point;
    const readouts = point.readouts ?? this.readout.readouts;
    for (const [name, v] of [['t1Us', t1Us], ['t2Us', t2Us]] as const) {
      if (typeof v !== 'number' || !(v >= EVOLUTION_RANGE_US[0] && v <= EVOLUTION_RANGE_US[1])) throw new OutOfRangeError(this.id, name, v, EVOLUTION_RANGE_US[0], EVOLUTION_RANGE_US[1], ' us');
    }
    if (!Number.isInteger(readouts) || readouts < 1) throw new DriverError('CONFIG', this.id, `readouts: must be a positive integer, got ${readouts}`);
    const mixing = this.mixingPulseArmed();
    // Experiment time: every repetition runs the whole sequence.
    try {
      await this.wait((readouts * (this.overheadUs + t1Us + t2Us)) / 1000);
    } catch (err) {
      throw this.fail(err);
    }
    if (mixing && this.rfId) rfTables(this.world.state)[this.rfId]!.triggers += readouts;
    return this.world.measure(`${this.id}.population`, () => {
      const S = mixing
        ? cosySignal(this.system, t1Us * 1e-6, t2Us * 1e-6, this.physics.t2CoherenceS)
        : this.freePrecession((t1Us + t2Us) * 1e-6);
      const p0 = 0.5 * (1 + this.physics.contrast * S);
      const r = sampleReadout(p0, { ...this.readout, readouts }, this.rng);
      return { payload: new Float64Array([r.population]), shape: [1], fields: { t1Us, t2Us, readouts, photons: r.photons, mixing } };
    });
  }

  async command_correlation(p: CorrelationPoint): Promise<Measurement<Float64Array>> {
    return this.correlation(p);
  }

  /** True when an armed rf pulse's band covers every nuclear line (f ± bandwidth/2). */
  private mixingPulseArmed(): boolean {
    const pulses = armedPulses(this.world.state, this.rfId);
    const f = this.system.frequenciesHz;
    return pulses.some((p) => f.every((fk) => Math.abs(fk - p.frequencyHz) <= p.bandwidthHz / 2));
  }

  private freePrecession(tS: number): number {
    const { frequenciesHz: f, weights: w } = this.system;
    let s = 0, ws = 0;
    for (let k = 0; k < f.length; k++) {
      s += w[k]! * Math.cos(2 * Math.PI * f[k]! * tS);
      ws += w[k]!;
    }
    return (s / ws) * Math.exp(-tS / this.physics.t2CoherenceS);
  }
}
