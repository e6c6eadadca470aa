/**
 * Plans `mrfm-multislice` and `mrfm-xyz` (issue 16, paper Sec. III).
 *
 * mrfm-multislice: program the n_f inversion pulses (centres from Appendix
 * E's furthest-extent rule, half-width f_BW) and arm them; raster the piezo
 * over the nx × ny grid at one height; at each point measure the force
 * variance for T_m under each pulse that the seeded random CS mask of ratio p
 * keeps; after every `reconstructEvery` rows (and at the end) the pipeline
 * reconstructs the volume from what has arrived (live results).
 *
 * mrfm-xyz (the paper's baseline): one pulse (the slice reaching
 * extentMaxNm), the sample stepped away from the magnet in `zSteps` steps
 * of stepNm; at each (x, y, z) one measurement. Same pipeline, with the z
 * steps in place of the pulses.
 *
 * Every measurement, move and reconstruction is recorded by the engine; on a
 * virtual clock a 30-s T_m costs no wall time.
 */
import { randomMask } from '../../native/index.js';
import { inversionPulses } from '../../drivers/rf/rf.js';
import { pulseCentres, TABLE1_SETUP } from '../../drivers/force/physics.js';
import type { ResonatorGeometry } from '../../drivers/force/interface.js';
import type { Plan, PlanContext } from '../core/plan.js';
import type { ParamsSchema } from '../core/params.js';

export interface MrfmPlanParams {
  protocol: 'multislice' | 'xyz';
  nx: number;
  ny: number;
  nz: number;
  stepNm: number;
  standoffNm: number;
  nf: number;
  zSteps: number;
  extentMinNm: number;
  extentMaxNm: number;
  fBWHz: number;
  pulseDurationUs: number;
  TmS: number;
  p: number;
  seed: number;
  method: 'admm' | 'landweber';
  maxIter: number;
  reconstructEvery: number;
  geometry: ResonatorGeometry;
  centerXNm: number;
  centerYNm: number;
  zNm: number;
  magnetRadiusNm: number;
  magnetHeightNm: number;
  mu0MsT: number;
  b0T: number;
  subSamples: number;
}

function schema(protocol: 'multislice' | 'xyz'): ParamsSchema {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      protocol: { type: 'string', enum: [protocol], default: protocol },
      nx: { type: 'integer', unit: '1', minimum: 2, maximum: 256, default: 32, description: 'scan points along x (= voxels)' },
      ny: { type: 'integer', unit: '1', minimum: 2, maximum: 256, default: 32, description: 'scan points along y' },
      nz: { type: 'integer', unit: '1', minimum: 1, maximum: 128, default: 24, description: 'reconstructed heights' },
      stepNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, maximum: 1000, default: 2, description: 'scan step = voxel edge' },
      standoffNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, default: 15, description: 'z_min: lowest voxel layer above the magnet' },
      nf: { type: 'integer', unit: '1', minimum: 1, maximum: 64, default: 12, description: 'inversion pulses (multislice)' },
      zSteps: { type: 'integer', unit: '1', minimum: 1, maximum: 128, default: 24, description: 'z steps of the sample (xyz)' },
      extentMinNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, default: 24, description: 'slice extent of the first pulse (Appendix E)' },
      extentMaxNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, default: 70, description: 'slice extent of the last pulse (xyz: its one pulse)' },
      fBWHz: { type: 'number', unit: 'Hz', exclusiveMinimum: 0, default: 500e3, description: 'pulse half-width f_BW' },
      pulseDurationUs: { type: 'number', unit: 'us', exclusiveMinimum: 0, default: 10 },
      TmS: { type: 'number', unit: 's', exclusiveMinimum: 0, maximum: 3600, default: 30, description: 'measurement time per point and pulse' },
      p: { type: 'number', unit: '1', exclusiveMinimum: 0, maximum: 1, default: protocol === 'multislice' ? 0.5 : 1, description: 'CS sampling ratio (seeded random mask)' },
      seed: { type: 'integer', unit: '1', minimum: 0, default: 1, description: 'seed of the sampling mask' },
      method: { type: 'string', enum: ['admm', 'landweber'], default: 'admm' },
      maxIter: { type: 'integer', unit: '1', minimum: 1, maximum: 10000, default: 200 },
      reconstructEvery: { type: 'integer', unit: '1', minimum: 1, default: 8, description: 'rows between progressive reconstructions' },
      geometry: { type: 'string', enum: ['cantilever', 'membrane'], default: 'cantilever', description: 'must match the force sensor' },
      centerXNm: { type: 'number', unit: 'nm', default: 50_000, description: 'stage x of the scan centre' },
      centerYNm: { type: 'number', unit: 'nm', default: 50_000 },
      zNm: { type: 'number', unit: 'nm', default: 50_000, description: 'stage z at the standoff (xyz steps go up from here)' },
      magnetRadiusNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, default: TABLE1_SETUP.magnet.radiusNm },
      magnetHeightNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, default: TABLE1_SETUP.magnet.heightNm },
      mu0MsT: { type: 'number', unit: 'T', exclusiveMinimum: 0, default: TABLE1_SETUP.magnet.mu0MsT },
      b0T: { type: 'number', unit: 'T', minimum: 0, default: TABLE1_SETUP.b0T },
      subSamples: { type: 'integer', unit: '1', minimum: 1, maximum: 8, default: 2, description: 'sub-voxel samples per axis of the PSF' },
    },
  };
}

const ROLES = {
  scanner: { kind: 'piezo', description: 'moves the sample over the magnet (x, y; z for xyz)' },
  rf: { kind: 'rf', description: 'plays the inversion pulses' },
  sensor: { kind: 'force', description: 'resonator + lock-in: in-minus-out force variance' },
};

/** The pulse centres the plan programs (Appendix E), Hz. */
export function planPulseCentres(p: MrfmPlanParams): number[] {
  const setup = { ...TABLE1_SETUP, magnet: { radiusNm: p.magnetRadiusNm, heightNm: p.magnetHeightNm, mu0MsT: p.mu0MsT }, b0T: p.b0T };
  return p.protocol === 'xyz' ? pulseCentres(setup, 1, [p.extentMaxNm, p.extentMaxNm]) : pulseCentres(setup, p.nf, [p.extentMinNm, p.extentMaxNm]);
}

async function run(ctx: PlanContext<MrfmPlanParams>): Promise<void> {
  const p = ctx.params;
  const settings = (await ctx.call('sensor', 'settings')) as { geometry: ResonatorGeometry };
  if (settings.geometry !== p.geometry) throw new Error(`geometry: the plan says ${p.geometry} but the force sensor is a ${settings.geometry}`);
  const f0 = planPulseCentres(p);
  await ctx.call('rf', 'setPulses', { pulses: inversionPulses(f0, p.fBWHz, p.pulseDurationUs) });
  await ctx.call('rf', 'arm');
  const layers = p.protocol === 'xyz' ? p.zSteps : p.nf;
  const mask = p.p < 1 ? randomMask([p.nx, p.ny, layers], p.p, p.seed) : new Uint8Array(p.nx * p.ny * layers).fill(1);
  ctx.mark('mask', { p: p.p, seed: p.seed, shape: [p.nx, p.ny, layers], sampled: mask.reduce((a, b) => a + b, 0) });
  let done = 0;
  const at = (i: number, j: number) => [p.centerXNm + (i - Math.floor(p.nx / 2)) * p.stepNm, p.centerYNm + (j - Math.floor(p.ny / 2)) * p.stepNm] as const;
  const outer = p.protocol === 'xyz' ? p.zSteps : 1;
  for (let k = 0; k < outer; k++) {
    for (let i = 0; i < p.nx; i++) {
      for (let j = 0; j < p.ny; j++) {
        const ls = p.protocol === 'xyz' ? [k] : Array.from({ length: p.nf }, (_, l) => l);
        const todo = ls.filter((l) => mask[(i * p.ny + j) * layers + l]);
        if (todo.length === 0) continue;
        const [x, y] = at(i, j);
        await ctx.call('scanner', 'moveTo', { x, y, z: p.zNm + (p.protocol === 'xyz' ? k * p.stepNm : 0) });
        for (const l of todo) {
          await ctx.acquire('sensor', 'measureVariance', { pulse: p.protocol === 'xyz' ? 0 : l, Tm: p.TmS }, { fields: { i, j, l } });
          ctx.progress(++done);
        }
      }
      const row = k * p.nx + i + 1;
      if (row % p.reconstructEvery === 0 && row < outer * p.nx) await ctx.shouldStop({ row });
    }
  }
  await ctx.shouldStop('session');
  await ctx.call('rf', 'disarm');
}

function makePlan(protocol: 'multislice' | 'xyz'): Plan<MrfmPlanParams> {
  return {
    name: protocol === 'multislice' ? 'mrfm-multislice' : 'mrfm-xyz',
    version: '1',
    description: protocol === 'multislice'
      ? 'MRFM multislice: x,y raster, n_f inversion pulses per point (CS mask of ratio p), progressive ADMM reconstruction'
      : 'MRFM XYZ baseline: one inversion pulse, the sample stepped in x, y and z, same reconstruction',
    params: schema(protocol),
    roles: ROLES,
    pipeline: () => 'mrfm',
    total: (p) => Math.round(p.nx * p.ny * (protocol === 'xyz' ? p.zSteps : p.nf) * p.p),
    run,
  };
}

export const mrfmMultislicePlan = makePlan('multislice');
export const mrfmXyzPlan = makePlan('xyz');
