/**
 * The rf pulse generator: a table of shaped pulses (centre frequency,
 * bandwidth, duration, phase) that the instrument plays on each trigger once
 * armed. Used by cosy-2d (the nuclear π/2 mixing pulse) and later by MRFM (the
 * inversion pulses f0 ± f_BW).
 *
 * The simulator writes its table into the shared world state (`rfTables`),
 * where the simulated instruments that feel the rf field (ODMR readout, force
 * sensor) read it: the pulse table decides what they measure.
 */
import { DriverError } from '../core/errors.js';
import type { WorldState } from '../core/world.js';

/** One pulse of the table. */
export interface RfPulse {
  /** Centre frequency, Hz. */
  frequencyHz: number;
  /** Full bandwidth of the pulse (the band it acts on), Hz. */
  bandwidthHz: number;
  /** Duration, µs. */
  durationUs: number;
  /** Carrier phase, degrees (0 = x, 90 = y). */
  phaseDeg: number;
}

/** The generator's limits; a pulse outside them is refused with OutOfRangeError. */
export interface RfLimits {
  frequencyHz: [number, number];
  maxBandwidthHz: number;
  durationUs: [number, number];
  maxPulses: number;
}

export const DEFAULT_RF_LIMITS: RfLimits = { frequencyHz: [1e3, 500e6], maxBandwidthHz: 20e6, durationUs: [0.01, 1e6], maxPulses: 64 };

/** What an rf generator publishes into the world (`world.state.rfTables[id]`). */
export interface RfTableState {
  pulses: readonly RfPulse[];
  armed: boolean;
  /** Triggers received since the table was armed (from the generator or the sequencer). */
  triggers: number;
}

/** The world-state field the rf generators write, keyed by instrument id. */
export function rfTables(state: WorldState): Record<string, RfTableState> {
  if (!state.rfTables) state.rfTables = {};
  return state.rfTables as Record<string, RfTableState>;
}

/** The armed pulses of every rf generator in the world (or of `id` only). */
export function armedPulses(state: WorldState, id?: string): RfPulse[] {
  const tables = rfTables(state);
  const ids = id ? [id] : Object.keys(tables);
  return ids.flatMap((k) => (tables[k]?.armed ? [...tables[k]!.pulses] : []));
}

/** Interface of every rf generator implementation (simulated or real). */
export interface RfPulseGenerator {
  setPulses(pulses: RfPulse[]): Promise<void>;
  pulses(): readonly RfPulse[];
  arm(): Promise<void>;
  disarm(): Promise<void>;
  /** Plays the table once (software trigger); resolves after its total duration. */
  trigger(): Promise<void>;
  readonly armed: boolean;
}

/** `trigger` while not armed. */
export class NotArmedError extends DriverError {
  override readonly name = 'NotArmedError';
  constructor(driverId: string) {
    super('CONFIG', driverId, 'trigger refused: pulse table not armed (call arm first)');
  }
}

/** JSON Schema of one pulse (command params and config). */
export const RF_PULSE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['frequencyHz', 'bandwidthHz', 'durationUs'],
  properties: {
    frequencyHz: { type: 'number', unit: 'Hz' },
    bandwidthHz: { type: 'number', unit: 'Hz' },
    durationUs: { type: 'number', unit: 'us' },
    phaseDeg: { type: 'number', unit: 'deg', default: 0 },
  },
} as const;

/**
 * The MRFM inversion pulse table: one adiabatic inversion pulse per centre
 * frequency f0_l, each flipping the spins with |f_L − f0_l| ≤ f_BW (half-width
 * `fBWHz`, so the pulse's full band is 2·f_BW). The force sensor's
 * `measureVariance({pulse: l})` names a row of this table.
 */
export function inversionPulses(f0Hz: readonly number[], fBWHz: number, durationUs = 10): RfPulse[] {
  if (!(fBWHz > 0) || !Number.isFinite(fBWHz)) throw new RangeError(`fBWHz: must be a finite number > 0, got ${fBWHz}`);
  return f0Hz.map((f, i) => {
    if (!(f > 0) || !Number.isFinite(f)) throw new RangeError(`f0Hz[${i}]: must be a finite number > 0, got ${f}`);
    return { frequencyHz: f, bandwidthHz: 2 * fBWHz, durationUs, phaseDeg: 0 };
  });
}

/** Half-width f_BW of an inversion pulse from the table (inverse of `inversionPulses`). */
export function inversionHalfWidthHz(p: RfPulse): number {
  return p.bandwidthHz / 2;
}
