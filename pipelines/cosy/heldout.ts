/**
 * Held-out maps for benchmarks and regression tests: what the simulated ODMR
 * readout measures (photon shot noise, 1.5e5 readouts) on the paper's grid, for
 * the default dimer and random 2–3-spin clusters drawn from a name space
 * (`odmr-heldout/<i>`) that DLNet training never uses (`train/<i>`,
 * `heldout/<i>`, `epoch/<e>`).
 */
import { Rng } from '../../drivers/core/rng.js';
import { aliasHz, COSY_GRID, DEFAULT_COSY_PARAMS, DEFAULT_DIMER, DEFAULT_READOUT, gridTimesS, populationMap, randomCluster, sampleReadout, spinSystem } from '../../drivers/odmr/physics.js';

export interface HeldOutMap {
  /** Noise-free ms=0 population map [50, 50]. */
  clean: Float64Array;
  /** As measured (every point, readout noise). */
  noisy: Float64Array;
  /** Aliased lines, kHz (the SNR's peaks). */
  linesKHz: number[];
}

export const HELDOUT_SEED = 20261122;

/** Map 0 is the default dimer (the paper's lines); the others random clusters of 2–3 nuclei. */
export function heldOutOdmrMap(i: number, seed = HELDOUT_SEED): HeldOutMap {
  const rng = Rng.derive(seed, `odmr-heldout/${i}`);
  const nuclei = i === 0 ? DEFAULT_DIMER : randomCluster(2 + rng.int(2), rng);
  const sys = spinSystem(nuclei);
  const t = gridTimesS();
  const clean = populationMap(sys, DEFAULT_COSY_PARAMS, t, t);
  const noisy = clean.map((p) => sampleReadout(p, DEFAULT_READOUT, rng).population);
  const linesKHz = sys.frequenciesHz.map((f) => aliasHz(f, COSY_GRID.stepUs * 1e-6) / 1e3);
  return { clean, noisy, linesKHz };
}
