/**
 * Simulated MRFM datasets without the instruments (tests, benchmark, demo
 * datasets): the scene's density, the per-pulse PSFs, the noiseless forward
 * model and the noise of the in-minus-out estimator (drivers/force/model.ts),
 * and a seeded random sampling mask of ratio p (NaN where not sampled).
 * The plans produce the same kind of data through the simulated instruments.
 */
import { mrfmForward, randomMask } from '../../native/index.js';
import { Rng } from '../../drivers/core/rng.js';
import { computePsf, computeXyzPsf, pulseCentres, TABLE1_SETUP, type MrfmGrid, type MrfmSetup, type NoiseModel } from '../../drivers/force/physics.js';
import { independentSamples, sampleVariance, thermalVariance } from '../../drivers/force/model.js';
import { sampleDensity, TABLE1_SAMPLE, type MrfmSampleSpec } from '../../drivers/force/scene.js';
import type { ResonatorGeometry } from '../../drivers/force/interface.js';
import type { MrfmProblem } from './reconstruct.js';

export interface SimulationSpec {
  grid: MrfmGrid;
  setup?: MrfmSetup;
  sample?: MrfmSampleSpec;
  geometry: ResonatorGeometry;
  protocol: 'multislice' | 'xyz';
  /** Multislice: pulse count and slice extents (Appendix E). XYZ: one pulse reaching extentNm[1], and nf steps of the sample away from the magnet, one voxel each. */
  nf: number;
  extentNm: [number, number];
  fBWHz: number;
  TmS: number;
  sThAnPerRtHz: number;
  bandwidthHz: number;
  tauMS: number;
  /** Sampling ratio p (1: every point). */
  p: number;
  seed: number;
  subSamples?: number;
  /** false: noiseless data. */
  noise?: boolean;
  /** Pre-computed PSF to reuse (same grid, pulses, geometry). */
  psf?: Float32Array;
}

export interface SimulatedDataset extends MrfmProblem {
  truth: Float64Array;
  f0Hz: number[];
  /** Heights of the XYZ steps (offsets), nm; empty for multislice. */
  stepsNm: number[];
  clean: Float64Array;
}

export async function simulateDataset(s: SimulationSpec): Promise<SimulatedDataset> {
  const setup = s.setup ?? TABLE1_SETUP;
  const g = s.grid;
  const truth = sampleDensity(g, s.sample ?? TABLE1_SAMPLE, new Rng(s.seed));
  let f0Hz: number[];
  let stepsNm: number[] = [];
  let psf = s.psf;
  if (s.protocol === 'multislice') {
    f0Hz = pulseCentres(setup, s.nf, s.extentNm);
    psf ??= await computePsf({ setup, grid: g, geometry: s.geometry, f0Hz, fBWHz: s.fBWHz, ...(s.subSamples ? { subSamples: s.subSamples } : {}) });
  } else {
    f0Hz = pulseCentres(setup, 1, s.extentNm);
    // the sample stepped away from the magnet one voxel at a time: the slice sweeps down through it
    stepsNm = Array.from({ length: s.nf }, (_, k) => k * g.voxelNm);
    psf ??= await computeXyzPsf({ setup, grid: g, geometry: s.geometry, f0Hz: f0Hz[0]!, fBWHz: s.fBWHz, ...(s.subSamples ? { subSamples: s.subSamples } : {}) }, stepsNm);
  }
  const dims = { nx: g.nx, ny: g.ny, nz: g.nz, nf: s.nf };
  const vv = g.voxelNm ** 3;
  const clean = mrfmForward(psf, dims, vv, truth);
  const noise: NoiseModel = { sThAnPerRtHz: s.sThAnPerRtHz, bandwidthHz: s.bandwidthHz, tauMS: s.tauMS, TmS: s.TmS, nf: s.protocol === 'multislice' ? s.nf : 1 };
  const rng = new Rng(s.seed + 1);
  const th = thermalVariance(s.sThAnPerRtHz, s.bandwidthHz);
  const k = independentSamples(s.TmS, s.tauMS);
  const measurement = s.noise === false ? Float64Array.from(clean) : Float64Array.from(clean, (v) => sampleVariance(rng, v, th, k, noise.nf).variance);
  if (s.p < 1) {
    const mask = randomMask([g.nx, g.ny, s.nf], s.p, s.seed + 2);
    for (let i = 0; i < measurement.length; i++) if (!mask[i]) measurement[i] = NaN;
  }
  return { psf, dims, voxelVolumeNm3: vv, measurement, noise, truth, f0Hz, stepsNm, clean };
}
