import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { decodeNpy, encodeNpy } from '../../../drivers/core/npy.js';
import { zHeights } from '../../../drivers/force/physics.js';
import { simulateDataset, type SimulatedDataset } from '../../../pipelines/mrfm/simulate.js';
import { writeMrfmDataset } from '../../../pipelines/mrfm/dataset.js';
import { reconstructMrfmFolder } from '../../../pipelines/mrfm/offline.js';

const GRID = { nx: 12, ny: 12, nz: 6, voxelNm: 5, standoffNm: 15 };
const CLI = join(__dirname, '../../../dist/daemon/cli.js');
let ds: SimulatedDataset;
let good: string;

function write(dir: string, d: SimulatedDataset, over: Partial<Parameters<typeof writeMrfmDataset>[1]> = {}): string {
  writeMrfmDataset(dir, {
    psf: d.psf, measurement: d.measurement, truth: d.truth, voxelNm: GRID.voxelNm, zHeightsNm: zHeights(GRID), f0Hz: d.f0Hz, fBWHz: 500e3,
    resonator: 'cantilever', protocol: 'multislice', noise: d.noise, p: 0.5, nx: GRID.nx, ny: GRID.ny, ...over,
  });
  return dir;
}

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

beforeAll(async () => {
  ds = await simulateDataset({ grid: GRID, geometry: 'cantilever', protocol: 'multislice', nf: 6, extentNm: [24, 60], fBWHz: 500e3, TmS: 30, sThAnPerRtHz: 10, bandwidthHz: 40, tauMS: 0.02, p: 0.5, seed: 2, subSamples: 2 });
  good = write(join(mkdtempSync(join(tmpdir(), 'mrfm-')), 'ds'), ds);
});

describe('qscope reconstruct mrfm', () => {
  it('reconstructs a sub-sampled dataset folder: recon.npy, metrics.json, PNG slices', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mrfm-out-')), 'r');
    const r = await reconstructMrfmFolder({ input: good, out, method: 'admm' });
    expect(readdirSync(out).sort()).toEqual(['metrics.json', 'recon-xy.png', 'recon-xz.png', 'recon.npy']);
    const recon = decodeNpy(readFileSync(join(out, 'recon.npy')));
    expect(recon.dtype).toBe('f64');
    expect(recon.shape).toEqual([12, 12, 6]);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(m).toMatchObject({ method: 'admm', stoppingReason: 'converged', cs: { transform: 'dft3', mode: 'fill' } });
    expect(m.residualHistory).toHaveLength(m.iterations);
    expect(m.cs.sampledFraction).toBeGreaterThan(0.4);
    expect(m.rmse).toBe(r.metrics.rmse);
    expect(readFileSync(join(out, 'recon-xy.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  const cases: [string, (dir: string) => void, RegExp][] = [
    ['psf and measurement shapes that disagree', (d) => writeFileSync(join(d, 'measurement.npy'), encodeNpy(new Float64Array(12 * 12 * 5), [12, 12, 5])), /measurement\.npy: shape \(12, 12, 5\) does not match/],
    ['z heights missing', (d) => {
      const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
      delete m.grid.z_heights_nm;
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    }, /grid\.z_heights_nm: missing/],
    ['an all-NaN measurement', (d) => writeFileSync(join(d, 'measurement.npy'), encodeNpy(new Float64Array(12 * 12 * 6).fill(NaN), [12, 12, 6])), /every value is NaN/],
    ['a negative voxel size', (d) => {
      const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
      m.voxel_size_nm = [5, -5, 5];
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    }, /voxel_size_nm\[1\]: must be > 0/],
  ];
  it.each(cases)('refuses %s: exit code 2, a message naming it, nothing written', (_name, spoil, message) => {
    const dir = write(join(mkdtempSync(join(tmpdir(), 'mrfm-bad-')), 'ds'), ds);
    spoil(dir);
    const out = join(mkdtempSync(join(tmpdir(), 'mrfm-bad-out-')), 'r');
    const r = cli(['reconstruct', 'mrfm', '--input', dir, '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a bad --method with exit code 2', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mrfm-bad-out-')), 'r');
    const r = cli(['reconstruct', 'mrfm', '--input', good, '--out', out, '--method', 'magic']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--method: must be one of admm, landweber/);
    expect(existsSync(out)).toBe(false);
  });
});
