/**
 * The `mrfm-multislice` dataset kind: a folder with
 *  - manifest.json: kind, version, voxel_size_nm [3], voxel_volume_nm3,
 *    grid {nx, ny, nz, nf, z_heights_nm[nz]}, pulses {f0_Hz[nf], fBW_Hz},
 *    geometry {resonator: cantilever|membrane, protocol, …},
 *    noise {S_th_aN_per_rtHz, bandwidth_Hz, tau_m_s, Tm_s, nf}, sampling {p};
 *  - psf.npy: float32 (nf, nx, ny, nz), aN² per spin, centred (the magnet
 *    axis at index (nx/2, ny/2));
 *  - measurement.npy: float64 (nx, ny, nf), aN², NaN where not sampled;
 *  - truth.npy (optional, simulations): float64 (nx, ny, nz), spins/nm³.
 * Forward model: I[:,:,l] = Σ_z irfft2(rfft2(ifftshift(psf[l,:,:,z])) · rfft2(O[:,:,z])) · voxel_volume.
 * Every check names what is wrong; a bad folder is refused before anything is written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, NpyError } from '../../drivers/core/npy.js';
import { RESONATOR_GEOMETRIES, type ResonatorGeometry } from '../../drivers/force/interface.js';
import type { NoiseModel } from '../../drivers/force/physics.js';
import { MrfmInputError, type MrfmProblem } from './reconstruct.js';

export const MRFM_KIND = 'mrfm-multislice';
export const MRFM_VERSION = 1;
/** Largest grid a dataset may declare (voxels of the PSF, nf·nx·ny·nz). */
export const MAX_PSF_VALUES = 2 ** 28;

export interface MrfmManifest {
  kind: typeof MRFM_KIND;
  version: number;
  voxel_size_nm: [number, number, number];
  voxel_volume_nm3: number;
  grid: { nx: number; ny: number; nz: number; nf: number; z_heights_nm: number[] };
  pulses: { f0_Hz: number[]; fBW_Hz: number };
  geometry: { resonator: ResonatorGeometry; protocol?: 'multislice' | 'xyz'; [k: string]: unknown };
  noise: { S_th_aN_per_rtHz: number; bandwidth_Hz: number; tau_m_s: number; Tm_s: number; nf: number };
  sampling: { p: number; seed?: number };
  /** DESIGN.md's generic fields. */
  shape?: number[];
  axes?: { name: string; unit: string; start: number; step: number }[];
  parameters?: Record<string, unknown>;
}

export interface MrfmDataset extends MrfmProblem {
  manifest: MrfmManifest;
}

function bad(dir: string, msg: string): never {
  throw new MrfmInputError(`${dir}: ${msg}`);
}

function num(dir: string, v: unknown, path: string, opts: { positive?: boolean; nonNegative?: boolean; integer?: boolean } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(dir, `manifest ${path}: missing or not a finite number`);
  if (opts.integer && !Number.isInteger(v)) bad(dir, `manifest ${path}: must be an integer, got ${v}`);
  if (opts.positive && !(v > 0)) bad(dir, `manifest ${path}: must be > 0, got ${v}`);
  if (opts.nonNegative && !(v >= 0)) bad(dir, `manifest ${path}: must be ≥ 0, got ${v}`);
  return v;
}

function obj(dir: string, v: unknown, path: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(dir, `manifest ${path}: missing or not an object`);
  return v as Record<string, unknown>;
}

/** Reads and checks a dataset folder; throws MrfmInputError naming the problem. */
export function readMrfmDataset(dir: string): MrfmDataset {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) bad(dir, 'not a directory');
  const mpath = join(dir, 'manifest.json');
  if (!existsSync(mpath)) bad(dir, 'manifest.json: missing');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(mpath, 'utf8'));
  } catch (err) {
    bad(dir, `manifest.json: not valid JSON (${(err as Error).message})`);
  }
  let m = obj(dir, raw, '');
  // a `qscope export` folder carries the dataset fields in `parameters`
  if (m.kind === MRFM_KIND && m.voxel_size_nm === undefined && m.parameters && typeof m.parameters === 'object') m = { ...(m.parameters as Record<string, unknown>), kind: m.kind };
  if (m.kind !== MRFM_KIND) bad(dir, `manifest kind: expected '${MRFM_KIND}', got ${JSON.stringify(m.kind)}`);
  const vs = m.voxel_size_nm;
  if (!Array.isArray(vs) || vs.length !== 3) bad(dir, 'manifest voxel_size_nm: must be [dx, dy, dz]');
  vs.forEach((v, i) => num(dir, v, `voxel_size_nm[${i}]`, { positive: true }));
  const vv = num(dir, m.voxel_volume_nm3, 'voxel_volume_nm3', { positive: true });
  const g = obj(dir, m.grid, 'grid');
  const nx = num(dir, g.nx, 'grid.nx', { positive: true, integer: true });
  const ny = num(dir, g.ny, 'grid.ny', { positive: true, integer: true });
  const nz = num(dir, g.nz, 'grid.nz', { positive: true, integer: true });
  const nf = num(dir, g.nf, 'grid.nf', { positive: true, integer: true });
  if (nf * nx * ny * nz > MAX_PSF_VALUES) bad(dir, `manifest grid: nf·nx·ny·nz = ${nf * nx * ny * nz} is more than ${MAX_PSF_VALUES}`);
  if (!Array.isArray(g.z_heights_nm)) bad(dir, 'manifest grid.z_heights_nm: missing (one height per z layer)');
  if (g.z_heights_nm.length !== nz) bad(dir, `manifest grid.z_heights_nm: ${g.z_heights_nm.length} heights for nz = ${nz}`);
  g.z_heights_nm.forEach((h, i) => num(dir, h, `grid.z_heights_nm[${i}]`, { positive: true }));
  const pulses = obj(dir, m.pulses, 'pulses');
  if (!Array.isArray(pulses.f0_Hz) || pulses.f0_Hz.length !== nf) bad(dir, `manifest pulses.f0_Hz: must list nf = ${nf} centre frequencies`);
  pulses.f0_Hz.forEach((f, i) => num(dir, f, `pulses.f0_Hz[${i}]`, { positive: true }));
  num(dir, pulses.fBW_Hz, 'pulses.fBW_Hz', { positive: true });
  const geo = obj(dir, m.geometry, 'geometry');
  if (!RESONATOR_GEOMETRIES.includes(geo.resonator as ResonatorGeometry)) bad(dir, `manifest geometry.resonator: must be cantilever or membrane, got ${JSON.stringify(geo.resonator)}`);
  const nz0 = obj(dir, m.noise, 'noise');
  const noise: NoiseModel = {
    sThAnPerRtHz: num(dir, nz0.S_th_aN_per_rtHz, 'noise.S_th_aN_per_rtHz', { nonNegative: true }),
    bandwidthHz: num(dir, nz0.bandwidth_Hz, 'noise.bandwidth_Hz', { positive: true }),
    tauMS: num(dir, nz0.tau_m_s, 'noise.tau_m_s', { positive: true }),
    TmS: num(dir, nz0.Tm_s, 'noise.Tm_s', { positive: true }),
    nf: num(dir, nz0.nf, 'noise.nf', { positive: true, integer: true }),
  };
  const sampling = obj(dir, m.sampling, 'sampling');
  const p = num(dir, sampling.p, 'sampling.p', { positive: true });
  if (p > 1) bad(dir, `manifest sampling.p: must be in (0, 1], got ${p}`);

  const load = (name: string, dtype: 'f32' | 'f64', shape: number[], what: string) => {
    const path = join(dir, name);
    if (!existsSync(path)) bad(dir, `${name}: missing`);
    let a;
    try {
      a = decodeNpy(readFileSync(path), name);
    } catch (err) {
      if (err instanceof NpyError) bad(dir, err.message);
      throw err;
    }
    if (a.dtype !== dtype) bad(dir, `${name}: dtype ${a.dtype}, expected ${dtype === 'f32' ? 'float32' : 'float64'}`);
    if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) bad(dir, `${name}: shape (${a.shape.join(', ')}) does not match ${what} (${shape.join(', ')})`);
    return a.data;
  };
  const psf = load('psf.npy', 'f32', [nf, nx, ny, nz], 'the manifest grid (nf, nx, ny, nz)') as Float32Array;
  for (let i = 0; i < psf.length; i++) if (!Number.isFinite(psf[i]!)) bad(dir, `psf.npy: value ${i} is not finite`);
  const measurement = load('measurement.npy', 'f64', [nx, ny, nf], 'the manifest grid (nx, ny, nf)') as Float64Array;
  let sampled = 0;
  for (let i = 0; i < measurement.length; i++) {
    const v = measurement[i]!;
    if (Number.isNaN(v)) continue;
    if (!Number.isFinite(v)) bad(dir, `measurement.npy: value ${i} is infinite`);
    sampled++;
  }
  if (sampled === 0) bad(dir, 'measurement.npy: every value is NaN (nothing was sampled)');
  const manifest = m as unknown as MrfmManifest;
  const ds: MrfmDataset = { manifest, psf, dims: { nx, ny, nz, nf }, voxelVolumeNm3: vv, measurement, noise };
  if (existsSync(join(dir, 'truth.npy'))) ds.truth = load('truth.npy', 'f64', [nx, ny, nz], 'the volume (nx, ny, nz)') as Float64Array;
  return ds;
}

export interface WriteDatasetInput {
  psf: Float32Array;
  measurement: Float64Array;
  truth?: Float64Array;
  voxelNm: number;
  zHeightsNm: number[];
  f0Hz: number[];
  fBWHz: number;
  resonator: ResonatorGeometry;
  protocol: 'multislice' | 'xyz';
  noise: NoiseModel;
  p: number;
  nx: number;
  ny: number;
  parameters?: Record<string, unknown>;
}

/** Writes a dataset folder (created; must not exist or be empty). Returns the file names. */
export function writeMrfmDataset(dir: string, d: WriteDatasetInput): string[] {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir}: directory is not empty`);
  const nz = d.zHeightsNm.length, nf = d.f0Hz.length;
  const manifest: MrfmManifest = {
    kind: MRFM_KIND,
    version: MRFM_VERSION,
    voxel_size_nm: [d.voxelNm, d.voxelNm, d.voxelNm],
    voxel_volume_nm3: d.voxelNm ** 3,
    grid: { nx: d.nx, ny: d.ny, nz, nf, z_heights_nm: d.zHeightsNm },
    pulses: { f0_Hz: d.f0Hz, fBW_Hz: d.fBWHz },
    geometry: { resonator: d.resonator, protocol: d.protocol },
    noise: { S_th_aN_per_rtHz: d.noise.sThAnPerRtHz, bandwidth_Hz: d.noise.bandwidthHz, tau_m_s: d.noise.tauMS, Tm_s: d.noise.TmS, nf: d.noise.nf },
    sampling: { p: d.p },
    shape: [d.nx, d.ny, nf],
    axes: [
      { name: 'x', unit: 'nm', start: -Math.floor(d.nx / 2) * d.voxelNm, step: d.voxelNm },
      { name: 'y', unit: 'nm', start: -Math.floor(d.ny / 2) * d.voxelNm, step: d.voxelNm },
      { name: 'pulse', unit: '1', start: 0, step: 1 },
    ],
    ...(d.parameters ? { parameters: d.parameters } : {}),
  };
  mkdirSync(dir, { recursive: true });
  const files = ['manifest.json', 'psf.npy', 'measurement.npy'];
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'psf.npy'), encodeNpy(d.psf, [nf, d.nx, d.ny, nz]));
  writeFileSync(join(dir, 'measurement.npy'), encodeNpy(d.measurement, [d.nx, d.ny, nf]));
  if (d.truth) {
    writeFileSync(join(dir, 'truth.npy'), encodeNpy(d.truth, [d.nx, d.ny, nz]));
    files.push('truth.npy');
  }
  return files;
}
