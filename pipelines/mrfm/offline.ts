/**
 * `qscope reconstruct mrfm --input DIR --out DIR [--method admm|landweber]
 * [--cs dct|dft3|none] [--cs-mode fill|everywhere]`: reconstructs an
 * `mrfm-multislice` dataset folder and writes `recon.npy` (nx, ny, nz)
 * spins/nm³, `metrics.json` and PNG slices (xy mid-plane, xz mid-plane) with
 * colour and scale bars. Options and the dataset are checked before anything
 * is written (MrfmInputError: exit code 2).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../../drivers/core/npy.js';
import { renderMapPng } from '../core/png-image.js';
import { readMrfmDataset } from './dataset.js';
import { CS_MODES, CS_TRANSFORMS, DEFAULT_SOLVE, MRFM_METHODS, MrfmInputError, reconstructMrfm, rmse, type CsMode, type CsTransform, type MrfmMethod, type SolveSettings } from './reconstruct.js';

export interface MrfmOfflineOptions {
  input: string;
  out: string;
  method?: string;
  cs?: string;
  csMode?: string;
  maxIter?: number;
}

/** Checks the CLI choices; throws MrfmInputError naming the option. */
export function solveSettingsFrom(o: { method?: string; cs?: string; csMode?: string; maxIter?: number }): SolveSettings {
  const method = (o.method ?? DEFAULT_SOLVE.method) as MrfmMethod;
  if (!MRFM_METHODS.includes(method)) throw new MrfmInputError(`--method: must be one of ${MRFM_METHODS.join(', ')}, got '${o.method}'`);
  const transform = (o.cs ?? DEFAULT_SOLVE.cs.transform) as CsTransform;
  if (!CS_TRANSFORMS.includes(transform)) throw new MrfmInputError(`--cs: must be one of ${CS_TRANSFORMS.join(', ')}, got '${o.cs}'`);
  const mode = (o.csMode ?? DEFAULT_SOLVE.cs.mode) as CsMode;
  if (!CS_MODES.includes(mode)) throw new MrfmInputError(`--cs-mode: must be one of ${CS_MODES.join(', ')}, got '${o.csMode}'`);
  const maxIter = o.maxIter ?? (method === 'admm' ? DEFAULT_SOLVE.maxIter : 1000);
  if (!Number.isInteger(maxIter) || maxIter < 1 || maxIter > 100_000) throw new MrfmInputError(`--max-iter: must be an integer in [1, 100000], got ${o.maxIter}`);
  return { ...DEFAULT_SOLVE, method, maxIter, cs: { ...DEFAULT_SOLVE.cs, transform, mode } };
}

/** xy plane at height k of an (nx, ny, nz) volume, as a [ny, nx] image. */
export function xySlice(o: Float64Array, nx: number, ny: number, nz: number, k: number): Float64Array {
  const out = new Float64Array(nx * ny);
  for (let x = 0; x < nx; x++) for (let y = 0; y < ny; y++) out[y * nx + x] = o[(x * ny + y) * nz + k]!;
  return out;
}
/** xz plane at row y, as an [nz, nx] image with the highest layer on top. */
export function xzSlice(o: Float64Array, nx: number, ny: number, nz: number, y: number): Float64Array {
  const out = new Float64Array(nx * nz);
  for (let x = 0; x < nx; x++) for (let k = 0; k < nz; k++) out[(nz - 1 - k) * nx + x] = o[(x * ny + y) * nz + k]!;
  return out;
}

export async function reconstructMrfmFolder(o: MrfmOfflineOptions): Promise<{ files: string[]; metrics: Record<string, unknown> }> {
  const settings = solveSettingsFrom(o);
  const ds = readMrfmDataset(o.input);
  if (existsSync(o.out) && readdirSync(o.out).length > 0) throw new MrfmInputError(`--out ${o.out}: directory is not empty`);
  const started = performance.now();
  const r = await reconstructMrfm(ds, settings);
  const { nx, ny, nz, nf } = ds.dims;
  const s = r.solver;
  const metrics: Record<string, unknown> = {
    kind: 'mrfm-multislice',
    method: settings.method,
    iterations: s.iterations,
    stoppingReason: s.reason,
    stoppingRule: settings.method === 'admm' ? `relative change ≤ ${settings.tol}` : `discrepancy ‖W(Ao) − i‖² ≤ ${settings.tau}·Σ SE²`,
    discrepancyIteration: s.discrepancyIteration,
    noiseEnergy: r.noiseEnergy,
    residualHistory: Array.from(s.residual),
    ...(settings.method === 'admm' ? { admm: { nu1: s.nu1, nu2: s.nu2, gammaTV: s.gamma } } : {}),
    cs: r.cs ?? { transform: 'none' },
    wallSeconds: { total: (performance.now() - started) / 1000, setup: s.setupSeconds, iterations: s.seconds.at(-1) ?? 0, cs: r.cs?.seconds ?? 0 },
    shape: [nx, ny, nz],
    pulses: nf,
  };
  if (ds.truth) {
    metrics.rmse = rmse(r.o, ds.truth);
    metrics.rmseHistory = Array.from(s.rmse);
  }
  mkdirSync(o.out, { recursive: true });
  const files: string[] = [];
  const put = (name: string, data: Buffer | string) => {
    writeFileSync(join(o.out, name), data);
    files.push(name);
  };
  put('recon.npy', encodeNpy(r.o, [nx, ny, nz]));
  put('metrics.json', JSON.stringify(metrics, null, 2));
  const vox = ds.manifest.voxel_size_nm[0];
  const zMid = Math.floor(nz / 2), yMid = Math.floor(ny / 2);
  put('recon-xy.png', renderMapPng(xySlice(r.o, nx, ny, nz, zMid), { shape: [ny, nx], pixelSizeNm: vox, title: `xy z=${ds.manifest.grid.z_heights_nm[zMid]}nm`, unit: 'spins/nm^3' }));
  put('recon-xz.png', renderMapPng(xzSlice(r.o, nx, ny, nz, yMid), { shape: [nz, nx], pixelSizeNm: vox, title: `xz y=${yMid}`, unit: 'spins/nm^3' }));
  return { files, metrics };
}
