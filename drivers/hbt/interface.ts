/**
 * The HBT correlator (kind `hbt`): two single-photon detectors behind a 50:50
 * beam splitter and a start–stop correlator. Every implementation (the
 * simulator, a real time tagger's adapter) offers this interface.
 */
import type { ChannelSpec, CommandSpec, Driver } from '../core/driver.js';
import type { Measurement } from '../core/world.js';
import type { HbtGeometry } from './model.js';

/** Header fields of an `hbt.histogram` frame. */
export interface HistogramFields {
  /** Integration time of this histogram, s. */
  integrationS: number;
  binWidthNs: number;
  zeroBin: number;
  /** Total timing jitter σ, ns. */
  jitterNs: number;
  /** Photons counted in the window, both detectors (the PL signal). */
  counts: number;
  /** Coincidence events in the histogram. */
  events: number;
}

export interface HbtCorrelator extends Driver {
  readonly geometry: HbtGeometry;
  /** Integrates one histogram for `integrationMs` of experiment time (payload u32[bins]). */
  histogram(integrationMs: number): Promise<Measurement<Uint32Array>>;
  /** Counts photons for `integrationMs` (payload f64[1], counts/s; field `counts`). */
  countRate(integrationMs: number): Promise<Measurement<Float64Array>>;
}

export const HBT_CHANNELS: ChannelSpec[] = [
  { name: 'histogram', dtype: 'u32', unit: 'counts', access: 'stream', description: 'start–stop delay histogram, one per integration window' },
  { name: 'rate', dtype: 'f64', unit: 'counts/s', access: 'stream', description: 'photon count rate, both detectors (PL)' },
];

const INTEGRATION = { type: 'object', additionalProperties: false, required: ['integrationMs'], properties: { integrationMs: { type: 'number', exclusiveMinimum: 0, maximum: 3_600_000, unit: 'ms' } } };

export const HBT_COMMANDS: Record<string, CommandSpec> = {
  histogram: { description: 'integrate one coincidence histogram', params: INTEGRATION, mutating: true },
  countRate: { description: 'count photons over a window (PL rate)', params: INTEGRATION, mutating: true },
  geometry: { description: 'bins, bin width, zero bin, jitter of the delay axis', params: { type: 'object', additionalProperties: false }, mutating: false },
};
