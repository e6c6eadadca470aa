/**
 * The `magnetic` scene: the rig's magnetic sample, a periodic field of unit
 * spins on a square HR lattice (`hrPixelNm` per site), tiled over the whole
 * stage. Built once per world from the `scene.magnetic` config section and
 * the scene's seeded generator.
 *
 * Presets: `cycloid` (an analytic Néel cycloid along x with `periodHr` sites,
 * a known texture for tests) and `annealed` (a texture annealed by the native
 * spin annealer, Type I or II; see pipelines/domains and native/spins.cc).
 * The annealed preset anneals one periodic texture with the native annealer
 * when the camera first snaps (tests may pass another texture source).
 */
import type { Rng } from '../core/rng.js';
import type { Field } from './imaging.js';

export interface MagneticSceneConfig {
  preset?: 'cycloid' | 'annealed';
  /** HR lattice site, nm. */
  hrPixelNm?: number;
  /** Side of the periodic texture, sites. */
  sizeHr?: number;
  /** cycloid: period in sites. */
  periodHr?: number;
  /** annealed: Hamiltonian type 1 (exchange + DMI) or 2 (exchange + dipolar + anisotropy). */
  type?: 1 | 2;
  /** annealed: Metropolis sweeps of the schedule (400). */
  sweeps?: number;
}

export interface MagneticScene {
  /** Unit spins [sizeHr, sizeHr, 3] (Sx, Sy, Sz), periodic. */
  spins: Field & { data: Float64Array };
  hrPixelNm: number;
}

export const MAGNETIC_SCENE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    preset: { enum: ['cycloid', 'annealed'] },
    hrPixelNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
    sizeHr: { type: 'integer', minimum: 8, maximum: 1024, unit: '1' },
    periodHr: { type: 'number', exclusiveMinimum: 0, unit: '1' },
    type: { enum: [1, 2] },
    sweeps: { type: 'integer', minimum: 0, maximum: 100000, unit: '1' },
  },
} as const;

/** Builds annealed textures [n, n, 3] for the `annealed` preset (async: the annealer runs off the event loop). */
export type TextureSource = (type: 1 | 2, sizeHr: number, seed: number, sweeps: number) => Promise<Float64Array>;

/** The default source: the native annealer (native/spins.cc, decision 1500), the paper's parameters. */
export const nativeTextures: TextureSource = async (type, n, seed, sweeps) => {
  const { annealSpins } = await import('../../native/index.js');
  return (await annealSpins({ type, n }, { t0: 1.5, t1: 0.01, sweeps, alignSweeps: 50, seed })).spins;
};

/** Builds the scene; a promise because an annealed texture takes a native run. */
export async function buildMagneticScene(config: unknown, rng: Rng, textures?: TextureSource): Promise<MagneticScene> {
  const c = (config ?? {}) as MagneticSceneConfig;
  const n = c.sizeHr ?? 128;
  const hrPixelNm = c.hrPixelNm ?? 10;
  const preset = c.preset ?? 'cycloid';
  let data: Float64Array;
  if (preset === 'cycloid') {
    const period = c.periodHr ?? 21;
    const phase = rng.uniform() * 2 * Math.PI;
    data = new Float64Array(n * n * 3);
    for (let r = 0; r < n; r++)
      for (let col = 0; col < n; col++) {
        const th = (2 * Math.PI * col) / period + phase;
        const o = (r * n + col) * 3;
        data[o] = Math.sin(th);
        data[o + 2] = Math.cos(th);
      }
  } else {
    data = await (textures ?? nativeTextures)(c.type ?? 2, n, rng.nextU32(), c.sweeps ?? 400);
    if (data.length !== n * n * 3) throw new RangeError(`scene.magnetic: texture source gave ${data.length} values, expected ${n * n * 3}`);
  }
  return { spins: { data, rows: n, cols: n, channels: 3 }, hrPixelNm };
}
