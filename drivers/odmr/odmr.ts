/**
 * The NV ODMR readout: runs the correlation protocol at one (t1, t2) point and
 * returns the ms=0 population averaged over N readouts. Interface shared by
 * the simulator and any real adapter.
 */
export interface CorrelationPoint {
  /** First free evolution, µs. */
  t1Us: number;
  /** Second free evolution, µs. */
  t2Us: number;
  /** Repetitions averaged (default: the instrument's setting, 1.5e5). */
  readouts?: number;
}

export interface OdmrReadout {
  /** Runs init − t1 − π/2 − t2 − correlation read `readouts` times; the payload is [P(ms=0)]. */
  correlation(point: CorrelationPoint): Promise<import('../core/world.js').Measurement<Float64Array>>;
}

/** Allowed free-evolution times, µs. */
export const EVOLUTION_RANGE_US: [number, number] = [0, 10_000];
