/**
 * The `mrfm` scene: a nanomagnet under a spherical sample of nuclear spins
 * whose density has a seeded, spatially correlated texture (paper Fig. 2:
 * 40 nm diameter, mean 60 nm⁻³, σ 18.9 nm⁻³ over ~5 nm). The force simulator
 * asks it for σ_spin² of a pulse with the stage at a position.
 *
 * Geometry: the sample's voxel grid (nx × ny × nz, voxel edge voxelNm) sits
 * above the magnet face from `standoffNm` up when the stage z is at
 * `referenceZNm`; moving the stage up by δ moves the sample δ further away
 * (the XYZ protocol). Laterally the stage at `centerNm` puts the magnet axis
 * under the grid's index (nx/2, ny/2); the scan wraps around the grid
 * (circular convolution, as in the reconstruction's forward model).
 */
import { mrfmForward, type MrfmMagnet } from '../../native/index.js';
import type { Rng } from '../core/rng.js';
import type { RfPulse } from '../rf/rf.js';
import type { ResonatorGeometry } from './interface.js';
import { computePsf, TABLE1_SETUP, type MrfmGrid, type MrfmSetup } from './physics.js';

export interface MrfmSampleSpec {
  diameterNm: number;
  /** Mean spin density inside the sphere, spins/nm³. */
  meanDensity: number;
  /** Standard deviation of the density texture, spins/nm³. */
  sdDensity: number;
  /** Correlation length of the texture (Gaussian kernel σ), nm. */
  correlationNm: number;
}

export interface MrfmSceneConfig {
  magnet?: Partial<MrfmMagnet>;
  b0T?: number;
  sample?: Partial<MrfmSampleSpec>;
  grid?: Partial<MrfmGrid>;
  /** Stage (x, y) that puts the magnet axis under the sample's centre, nm. */
  centerNm?: [number, number];
  /** Stage z at which the sample's bottom is `standoffNm` above the magnet, nm. */
  referenceZNm?: number;
  /** Spin correlation time τ_m, ms. */
  tauMs?: number;
}

export const TABLE1_SAMPLE: MrfmSampleSpec = Object.freeze({ diameterNm: 40, meanDensity: 60, sdDensity: 18.9, correlationNm: 5 });
/** Default simulation grid: 2 nm voxels, 64 × 64 × 48 nm (a quick demo; the paper's is 1 nm, 128 × 128 × 50). */
export const DEFAULT_SCENE_GRID: MrfmGrid = Object.freeze({ nx: 32, ny: 32, nz: 24, voxelNm: 2, standoffNm: 15 });

const NUM = { type: 'number' } as const;
export const MRFM_SCENE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    magnet: { type: 'object', additionalProperties: false, properties: { radiusNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' }, heightNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' }, mu0MsT: { type: 'number', exclusiveMinimum: 0, unit: 'T' } } },
    b0T: { type: 'number', minimum: 0, unit: 'T' },
    sample: {
      type: 'object',
      additionalProperties: false,
      properties: {
        diameterNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
        meanDensity: { type: 'number', minimum: 0, unit: 'spins/nm^3' },
        sdDensity: { type: 'number', minimum: 0, unit: 'spins/nm^3' },
        correlationNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
      },
    },
    grid: {
      type: 'object',
      additionalProperties: false,
      properties: {
        nx: { type: 'integer', minimum: 2, maximum: 512 },
        ny: { type: 'integer', minimum: 2, maximum: 512 },
        nz: { type: 'integer', minimum: 1, maximum: 256 },
        voxelNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
        standoffNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
      },
    },
    centerNm: { type: 'array', items: NUM, minItems: 2, maxItems: 2 },
    referenceZNm: { type: 'number', unit: 'nm' },
    tauMs: { type: 'number', exclusiveMinimum: 0, unit: 'ms' },
  },
} as const;

/**
 * The sample's spin density on the grid, (nx, ny, nz) C order, spins/nm³:
 * white noise blurred by a periodic Gaussian of σ = correlationNm, scaled to
 * the requested mean and SD, clamped at 0, inside a sphere resting on the
 * lowest layer, centred laterally at (nx/2, ny/2).
 */
export function sampleDensity(grid: MrfmGrid, spec: MrfmSampleSpec, rng: Rng): Float64Array {
  const { nx, ny, nz, voxelNm: h } = grid;
  const n = nx * ny * nz;
  let f = Float64Array.from({ length: n }, () => rng.normal());
  const sigma = spec.correlationNm / h;
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-0.5 * ((i - radius) / sigma) ** 2));
  const ksum = kernel.reduce((a, b) => a + b, 0);
  const dims = [nx, ny, nz];
  const strides = [ny * nz, nz, 1];
  for (let axis = 0; axis < 3; axis++) {
    const out = new Float64Array(n);
    const len = dims[axis]!, st = strides[axis]!;
    for (let i = 0; i < n; i++) {
      const c = Math.floor(i / st) % len;
      let s = 0;
      for (let t = -radius; t <= radius; t++) s += kernel[t + radius]! * f[i + ((((c + t) % len) + len) % len - c) * st]!;
      out[i] = s / ksum;
    }
    f = out;
  }
  let mean = 0;
  for (const v of f) mean += v;
  mean /= n;
  let sd = 0;
  for (const v of f) sd += (v - mean) ** 2;
  sd = Math.sqrt(sd / n) || 1;
  const r = spec.diameterNm / 2;
  const cz = r; // the sphere rests on the bottom of the grid
  const o = new Float64Array(n);
  for (let x = 0; x < nx; x++)
    for (let y = 0; y < ny; y++)
      for (let z = 0; z < nz; z++) {
        const dx = (x - nx / 2) * h, dy = (y - ny / 2) * h, dz = (z + 0.5) * h - cz;
        if (dx * dx + dy * dy + dz * dz > r * r) continue;
        const i = (x * ny + y) * nz + z;
        o[i] = Math.max(0, spec.meanDensity + spec.sdDensity * ((f[i]! - mean) / sd));
      }
  return o;
}

/** The scene as the force simulator sees it. */
export class MrfmScene {
  readonly setup: MrfmSetup;
  readonly grid: MrfmGrid;
  readonly sample: MrfmSampleSpec;
  readonly centerNm: [number, number];
  readonly referenceZNm: number;
  readonly tauMs: number;
  /** Ground-truth density, (nx, ny, nz) spins/nm³. */
  readonly density: Float64Array;
  /** Noiseless σ_spin² images, (nx, ny) aN², per pulse/height-offset/geometry. */
  private readonly images = new Map<string, Float64Array>();

  constructor(cfg: MrfmSceneConfig = {}, rng: Rng) {
    this.setup = { ...TABLE1_SETUP, magnet: { ...TABLE1_SETUP.magnet, ...cfg.magnet }, b0T: cfg.b0T ?? TABLE1_SETUP.b0T };
    this.grid = { ...DEFAULT_SCENE_GRID, ...cfg.grid };
    this.sample = { ...TABLE1_SAMPLE, ...cfg.sample };
    this.centerNm = cfg.centerNm ?? [50_000, 50_000];
    this.referenceZNm = cfg.referenceZNm ?? 50_000;
    this.tauMs = cfg.tauMs ?? 20;
    this.density = sampleDensity(this.grid, this.sample, rng);
  }

  /** Height offset of the sample for a stage z, nm (0 at the reference). */
  offsetNm(stageZ: number): number {
    const d = stageZ - this.referenceZNm;
    if (this.grid.standoffNm + d <= 0) throw new RangeError(`stage z ${stageZ} nm: the sample would touch the magnet (standoff ${this.grid.standoffNm} nm)`);
    return Math.round(d * 100) / 100;
  }

  private key(p: RfPulse, offset: number, g: ResonatorGeometry): string {
    return `${p.frequencyHz}|${p.bandwidthHz}|${offset}|${g}`;
  }

  /** Computes (native, async) the noiseless images of `pulses` at a height offset that are not cached yet. */
  async prepare(pulses: readonly RfPulse[], offset: number, geometry: ResonatorGeometry): Promise<void> {
    const missing = pulses.filter((p, i) => !this.images.has(this.key(p, offset, geometry)) && pulses.findIndex((q) => this.key(q, offset, geometry) === this.key(p, offset, geometry)) === i);
    const byWidth = new Map<number, RfPulse[]>();
    for (const p of missing) byWidth.set(p.bandwidthHz, [...(byWidth.get(p.bandwidthHz) ?? []), p]);
    const { nx, ny, nz } = this.grid;
    for (const [bw, ps] of byWidth) {
      const psf = await computePsf({ setup: this.setup, grid: this.grid, geometry, f0Hz: ps.map((p) => p.frequencyHz), fBWHz: bw / 2, heightOffsetNm: offset });
      const nf = ps.length;
      const img = mrfmForward(psf, { nx, ny, nz, nf }, this.grid.voxelNm ** 3, this.density);
      ps.forEach((p, l) => {
        const one = new Float64Array(nx * ny);
        for (let i = 0; i < nx * ny; i++) one[i] = img[i * nf + l]!;
        this.images.set(this.key(p, offset, geometry), one);
      });
    }
  }

  /** Grid index (i, j) the stage (x, y) puts the magnet axis under. */
  index(xNm: number, yNm: number): [number, number] {
    const { nx, ny, voxelNm } = this.grid;
    const i = Math.round((xNm - this.centerNm[0]) / voxelNm) + Math.floor(nx / 2);
    const j = Math.round((yNm - this.centerNm[1]) / voxelNm) + Math.floor(ny / 2);
    return [((i % nx) + nx) % nx, ((j % ny) + ny) % ny];
  }

  /** σ_spin² (aN²) for a prepared pulse with the stage at (x, y, z). */
  variance(p: RfPulse, stageNm: [number, number, number], geometry: ResonatorGeometry): number {
    const img = this.images.get(this.key(p, this.offsetNm(stageNm[2]), geometry));
    if (!img) throw new Error(`mrfm scene: pulse ${p.frequencyHz} Hz not prepared`);
    const [i, j] = this.index(stageNm[0], stageNm[1]);
    return img[i * this.grid.ny + j]!;
  }
}

export function buildMrfmScene(config: unknown, rng: Rng): MrfmScene {
  return new MrfmScene((config ?? {}) as MrfmSceneConfig, rng);
}
