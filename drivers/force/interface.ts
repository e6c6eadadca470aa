/**
 * The MRFM force sensor (kind `force`): a mechanical resonator (a cantilever
 * oscillating along x, or a SiN membrane oscillating along z) whose motion a
 * lock-in amplifier demodulates at the resonance into two quadratures. The rf
 * inversion pulses flip the spins at twice the resonance frequency, so the
 * spin force appears in the in-phase quadrature X and the thermomechanical
 * noise in both; the spin signal is var(X) − var(Y) (paper Appendix A,
 * Eq. 16–18).
 *
 * Every implementation (the simulator drivers/force/sim.ts, a lock-in adapter
 * such as an SR830 or an MFLI behind the bridge) offers this interface.
 * Forces are in aN (attonewton), force variances in aN², times in s unless a
 * name says otherwise.
 */
import type { Observable } from 'rxjs';
import type { ChannelSpec, CommandSpec, Driver } from '../core/driver.js';
import type { Frame } from '../core/frame.js';
import type { Measurement } from '../core/world.js';

/** `cantilever`: oscillation along x (PSF weight (∂Bz/∂x)²); `membrane`: along z ((∂Bz/∂z)²). */
export type ResonatorGeometry = 'cantilever' | 'membrane';

export const RESONATOR_GEOMETRIES: readonly ResonatorGeometry[] = ['cantilever', 'membrane'];

/** The resonator and its read-out, as the instrument reports them. */
export interface ForceSensorSettings {
  geometry: ResonatorGeometry;
  /** Mechanical resonance frequency f_res, Hz (the inversion pulses repeat at 2·f_res). */
  resonanceHz: number;
  /** Mechanical quality factor Q. */
  q: number;
  /** Mode temperature, K. */
  temperatureK: number;
  /** Thermomechanical force-noise PSD S_th, aN/√Hz (σ_th² = S_th²·Δf). */
  sThAnPerRtHz: number;
  /** Detection bandwidth Δf of the lock-in, Hz. */
  bandwidthHz: number;
  /** Rate of the quadrature samples the lock-in delivers, Hz. */
  lockinRateHz: number;
}

/** One force-variance measurement request. */
export interface VarianceRequest {
  /**
   * Index of the rf inversion pulse playing during the measurement, in the
   * armed pulse table of the rf generator (drivers/rf). A real lock-in does
   * not see the rf; the index is recorded with the result, and the
   * simulator reads the pulse from the world's rf table.
   */
  pulse: number;
  /** Measurement time T_m, s (> 0). */
  Tm: number;
  /** Aborting stops the measurement and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Header fields of a `<id>.variance` measurement. The payload is f64
 * [variance, standardError] in aN²: the in-minus-out estimate σ_in² − σ_out²
 * of the spin force variance and its standard error (Eq. 18).
 */
export interface VarianceFields {
  pulse: number;
  /** Measurement time, s. */
  Tm: number;
  /** Variance of the in-phase quadrature X, aN². */
  inVariance: number;
  /** Variance of the out-of-phase quadrature Y, aN². */
  outVariance: number;
  /** Quadrature samples that went into each variance. */
  samples: number;
  /** Stage position (x, y, z) in nm when the measurement started, when known. */
  positionNm?: [number, number, number];
}

/**
 * Header fields of a `<id>.quadratures` frame: a block of consecutive lock-in
 * samples, payload f64 of shape [n, 2] (X, Y interleaved), aN.
 */
export interface QuadratureFields {
  /** Sample rate, Hz. */
  rateHz: number;
  /** Pulse index playing while the block was taken (−1: none). */
  pulse: number;
}

export interface ForceSensor extends Driver {
  readonly kind: 'force';
  /** The resonator and lock-in settings (a copy). */
  settings(): ForceSensorSettings;
  /**
   * Lock-in quadratures while a measurement runs: blocks of consecutive
   * (X, Y) samples at `lockinRateHz` (see QuadratureFields), stream
   * `<id>.quadratures`. Hot: subscribers see the blocks taken after they
   * subscribed; the samples never change the variance results.
   */
  readonly quadratures$: Observable<Frame<Float64Array>>;
  /**
   * Measures for `Tm` seconds of experiment time and returns the in-minus-out
   * force variance with its standard error (payload [variance, SE] aN²,
   * fields VarianceFields). Rejects with RangeError for a bad request (no
   * time passes), BusyError while another measurement runs,
   * DisconnectedError when the link drops.
   */
  measureVariance(req: VarianceRequest): Promise<Measurement<Float64Array>>;
}

export const FORCE_CHANNELS: ChannelSpec[] = [
  { name: 'variance', dtype: 'f64', unit: 'aN^2', access: 'stream', description: '[in-minus-out force variance, standard error], one per measureVariance' },
  { name: 'quadratures', dtype: 'f64', unit: 'aN', access: 'stream', description: 'lock-in (X, Y) sample blocks, shape [n, 2]' },
];

export const FORCE_COMMANDS: Record<string, CommandSpec> = {
  measureVariance: {
    description: 'measure the in-minus-out force variance for Tm seconds while rf pulse `pulse` plays',
    params: {
      type: 'object',
      additionalProperties: false,
      required: ['pulse', 'Tm'],
      properties: { pulse: { type: 'integer', minimum: 0, maximum: 4095 }, Tm: { type: 'number', exclusiveMinimum: 0, maximum: 86_400, unit: 's' } },
    },
    mutating: true,
  },
  settings: { description: 'resonator geometry, resonance, Q, temperature, S_th, bandwidth, lock-in rate', params: { type: 'object', additionalProperties: false, properties: {} }, mutating: false },
};

/** JSON Schema of ForceSensorSettings as config keys (every implementation's schema includes it). */
export const FORCE_SETTINGS_SCHEMA = {
  geometry: { enum: [...RESONATOR_GEOMETRIES] },
  resonanceHz: { type: 'number', exclusiveMinimum: 0, unit: 'Hz' },
  q: { type: 'number', exclusiveMinimum: 0, unit: '1' },
  temperatureK: { type: 'number', exclusiveMinimum: 0, unit: 'K' },
  sThAnPerRtHz: { type: 'number', minimum: 0, unit: 'aN/rtHz' },
  bandwidthHz: { type: 'number', exclusiveMinimum: 0, unit: 'Hz' },
  lockinRateHz: { type: 'number', exclusiveMinimum: 0, unit: 'Hz' },
} as const;

/** Defaults: the paper's cantilever (Table 1). */
export const DEFAULT_FORCE_SETTINGS: ForceSensorSettings = {
  geometry: 'cantilever',
  resonanceHz: 3000,
  q: 20_000,
  temperatureK: 4,
  sThAnPerRtHz: 10,
  bandwidthHz: 10,
  lockinRateHz: 100,
};

/**
 * Checks a variance request; throws RangeError naming the bad field. Every
 * implementation calls it before any time passes.
 */
export function checkVarianceRequest(req: VarianceRequest): void {
  if (req === null || typeof req !== 'object') throw new RangeError('measureVariance: expected {pulse, Tm}');
  if (!Number.isInteger(req.pulse) || req.pulse < 0) throw new RangeError(`pulse: must be an integer ≥ 0, got ${req.pulse}`);
  if (typeof req.Tm !== 'number' || !(req.Tm > 0) || !Number.isFinite(req.Tm) || req.Tm > 86_400) throw new RangeError(`Tm: must be a number of seconds in (0, 86400], got ${req.Tm}`);
}

/** Checks settings (merged over the defaults); throws RangeError `<id>.<key>: …`. */
export function checkForceSettings(id: string, s: ForceSensorSettings): ForceSensorSettings {
  if (!RESONATOR_GEOMETRIES.includes(s.geometry)) throw new RangeError(`${id}.geometry: must be cantilever or membrane, got ${String(s.geometry)}`);
  for (const k of ['resonanceHz', 'q', 'temperatureK', 'bandwidthHz', 'lockinRateHz'] as const) {
    if (!(s[k] > 0) || !Number.isFinite(s[k])) throw new RangeError(`${id}.${k}: must be a finite number > 0, got ${s[k]}`);
  }
  if (!(s.sThAnPerRtHz >= 0) || !Number.isFinite(s.sThAnPerRtHz)) throw new RangeError(`${id}.sThAnPerRtHz: must be a finite number ≥ 0, got ${s.sThAnPerRtHz}`);
  return { ...s };
}

/**
 * The in-minus-out estimate from quadrature samples (what a lock-in adapter
 * computes from the X, Y it records): sample variances of X and Y about
 * their means, the difference, and its standard error from Eq. 16–17 with
 * the number of independent samples `independent` (T_m/τ, ≥ 2).
 */
export function inMinusOut(x: ArrayLike<number>, y: ArrayLike<number>, independent: number): { variance: number; standardError: number; inVariance: number; outVariance: number } {
  const n = x.length;
  if (n < 2 || y.length !== n) throw new RangeError(`inMinusOut: need ≥ 2 paired samples, got ${x.length} and ${y.length}`);
  const v = (a: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < n; i++) m += a[i]!;
    m /= n;
    let s = 0;
    for (let i = 0; i < n; i++) s += (a[i]! - m) ** 2;
    return s / (n - 1);
  };
  const vin = v(x);
  const vout = v(y);
  const k = Math.max(independent, 2);
  const se = Math.sqrt((2 / (k - 1)) * (vin * vin + vout * vout));
  return { variance: vin - vout, standardError: se, inVariance: vin, outVariance: vout };
}
