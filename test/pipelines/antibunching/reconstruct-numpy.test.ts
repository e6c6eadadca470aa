import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reconstructG2, DEFAULT_RECONSTRUCT, readHbtScan } from '../../../pipelines/antibunching/reconstruct.js';
import { hasNumpy } from '../../support/python.js';

// A dataset written by hand with NumPy: one emitter (g2(0)=0.3, t1=20 ns) under a 300 nm PSF, 12×12 px of 60 nm,
// 8 one-second histograms per pixel, Poisson counts; the right half of the field stopped after 3 s (dwell_s.npy).
const SCRIPT = `
import json, sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(1)
ny = nx = 12; k = 8; bins = 215; w = 500/215; zero = 107; px = 60.0
tau = (np.arange(bins) - zero) * w
g2 = 1 - 0.7*np.exp(-np.abs(tau)/20)
y, x = np.mgrid[0:ny, 0:nx]
r2 = ((x - 5.5)*px)**2 + ((y - 5.5)*px)**2
I = 1e5*np.exp(-4*np.log(2)*r2/300**2); B = 3000.0; S = I + B
wgt = (I/S)**2
lam = (0.01*(S/2)**2*w*1e-9)[..., None]*(1 + wgt[..., None]*(g2 - 1)[None, None, :])
h = rng.poisson(np.repeat(lam[:, :, None, :], k, axis=2)).astype(np.uint32)
c = rng.poisson(np.repeat(S[:, :, None], k, axis=2)).astype(np.float64)
dwell = np.full((ny, nx), 8.0); dwell[:, 6:] = 3.0
h[:, 6:, 3:, :] = 0; c[:, 6:, 3:] = 0
np.save(out + '/histograms.npy', h); np.save(out + '/counts.npy', c); np.save(out + '/dwell_s.npy', dwell)
json.dump({"kind": "hbt-scan", "bins": bins, "binWidthNs": w, "zeroBin": zero, "integrationS": 1, "pixelSizeNm": px, "shape": [ny, nx]}, open(out + '/manifest.json', 'w'))
`;

describe('qscope reconstruct g2 on a folder written with NumPy', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'qscope-g2-np-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  // Needs python3 with numpy to write the dataset; without it this case is skipped (its name says why).
  it.runIf(hasNumpy)('reads it, honours dwell_s.npy, writes every output (skipped without python3 + numpy)', async () => {
    const dir = join(tmp, 'in');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('python3', ['-c', SCRIPT, dir]);
    const ds = readHbtScan(dir);
    expect([ds.ny, ds.nx, ds.k]).toEqual([12, 12, 8]);
    expect(ds.acquired[0]).toBe(8);
    expect(ds.acquired[11]).toBe(3);
    const m = await reconstructG2(dir, join(tmp, 'out'), { ...DEFAULT_RECONSTRUCT, earlyStop: false, method: 'shape-fixed-ml' });
    expect(m.totalDwellS).toBe(12 * 6 * 8 + 12 * 6 * 3);
    expect(Number(m.plFwhmNm)).toBeGreaterThan(280);
    expect(Number(m.plFwhmNm)).toBeLessThan(320);
    for (const f of ['g2.npy', 'g2_std.npy', 'pl.npy', 'G2.npy', 'dwell_s.npy', 'metrics.json', 'pl.png', 'g2.png', 'G2.png']) expect(existsSync(join(tmp, 'out', f))).toBe(true);
    const g2 = execFileSync('python3', ['-c', `import numpy as np; a=np.load('${join(tmp, 'out', 'g2.npy')}'); print(a[5:7,5:7].mean())`]).toString();
    // Self-calibrated from the brightest pixels (a rough shape from ~700 events): clearly antibunched at the
    // emitter (truth 1 + w(0.3 − 1) ≈ 0.34), within the ~0.15 per-pixel σ plus the calibration's bias.
    expect(Math.abs(Number(g2) - 0.34)).toBeLessThan(0.35);
    expect(Number(g2)).toBeLessThan(0.75);
  });

  it('bad folders give errors naming the file and field', async () => {
    const bad = join(tmp, 'bad');
    execFileSync('mkdir', ['-p', bad]);
    expect(() => readHbtScan(bad)).toThrow(/manifest.json: missing/);
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify({ kind: 'image' }));
    expect(() => readHbtScan(bad)).toThrow(/kind must be "hbt-scan"/);
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify({ kind: 'hbt-scan', bins: 215, binWidthNs: 2.3, zeroBin: 300, integrationS: 1, pixelSizeNm: 24, shape: [2, 2] }));
    expect(() => readHbtScan(bad)).toThrow(/zeroBin must be an integer in \[0, 214\]/);
    await expect(reconstructG2(bad, join(tmp, 'x'), { ...DEFAULT_RECONSTRUCT, method: 'magic' as never })).rejects.toThrow(/--method: must be one of/);
    expect(readFileSync(join(bad, 'manifest.json'), 'utf8')).toContain('hbt-scan');
  });
});
