import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readNpy } from '../../../drivers/core/npy.js';
import { createDefaultExporters, exportSession } from '../../../daemon/datasets/export.js';
import { readCosyDataset, writeCosyDataset } from '../../../pipelines/cosy/dataset.js';
import { reconstructCosyFolder } from '../../../pipelines/cosy/offline.js';
import { cosyRig, tmpDir } from './helpers.js';
import { hasNumpy } from '../../support/python.js';

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => (tmp = tmpDir()));
afterEach(() => tmp.cleanup());


describe('cosy-2d dataset: export, reconstruct cosy', () => {
  it('round-trips a session written by qscope export', async () => {
    const { engine } = await cosyRig(join(tmp.dir, 'sessions'));
    const id = await engine.start('cosy-2d', { n1: 16, n2: 20, method: 'orig', strategy: 'uniform', initialFraction: 0.2, batchFraction: 0.1, budgetFraction: 0.4, tol: 1e-9, readouts: 1000 });
    expect((await engine.whenEnded(id)).state).toBe('completed');
    const reader = engine.store.open(id);
    const frames = [...reader.frames('frames')];
    const exported = join(tmp.dir, 'export');
    exportSession(reader, exported, await createDefaultExporters());
    reader.close();
    const ds = readCosyDataset(exported);
    expect(ds.grid).toEqual({ n1: 16, n2: 20, t1StartUs: 4, t1StepUs: 18, t2StartUs: 4, t2StepUs: 18 });
    expect(ds.mask.reduce((a, b) => a + b, 0)).toBe(frames.length);
    for (const f of frames) expect(ds.map[(f.header.i as number) * 20 + (f.header.j as number)]).toBe(f.payload[0]);
    const out = join(tmp.dir, 'out');
    const r = await reconstructCosyFolder({ input: exported, out, method: 'orig' });
    for (const f of ['recon.npy', 'spectrum.npy', 'mask.npy', 'metrics.json', 'recon.png', 'spectrum.png', 'mask.png']) expect(existsSync(join(out, f))).toBe(true);
    const recon = readNpy(join(out, 'recon.npy'));
    expect(recon.shape).toEqual([16, 20]);
    // orig keeps every measured value, on the input's scale.
    for (const f of frames) expect(recon.data[(f.header.i as number) * 20 + (f.header.j as number)]).toBeCloseTo(f.payload[0]!, 12);
    expect(readNpy(join(out, 'spectrum.npy')).shape).toEqual([16, 20]);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ kind: 'cosy-2d', method: 'orig', sampled: frames.length, sampledFraction: frames.length / 320 });
    expect(Number.isFinite(metrics.snrDb)).toBe(true);
    expect(r.metrics.sampled).toBe(frames.length);
    await expect(reconstructCosyFolder({ input: exported, out, method: 'orig' })).rejects.toThrow(/not empty/);
  });

  it.runIf(hasNumpy)('reconstructs (mc, native svt) a dataset written by hand with NumPy, and scores it against reference.npy', async () => {
    const dir = join(tmp.dir, 'np');
    mkdirSync(dir);
    const script = `
import json, numpy as np
n1, n2 = 30, 40
t1 = 4 + 18 * np.arange(n1); t2 = 4 + 18 * np.arange(n2)
f = 21.9e-3  # cycles per us
full = 0.5 + 0.2 * np.outer(np.cos(2*np.pi*f*t1), np.cos(2*np.pi*f*t2)) + 0.1 * np.outer(np.cos(2*np.pi*23.5e-3*t1), np.cos(2*np.pi*23.5e-3*t2))
rng = np.random.default_rng(0)
m = full.astype(np.float32).copy()
m[rng.random((n1, n2)) > 0.35] = np.nan
np.save("${dir}/map.npy", m)
np.save("${dir}/reference.npy", full)
json.dump({"kind": "cosy-2d", "shape": [n1, n2], "t1StartUs": 4, "t1StepUs": 18, "t2StartUs": 4, "t2StepUs": 18}, open("${dir}/manifest.json", "w"))
`;
    execFileSync('python3', ['-c', script]);
    const out = join(tmp.dir, 'np-out');
    const r = await reconstructCosyFolder({ input: dir, out, method: 'mc' });
    const recon = readNpy(join(out, 'recon.npy'));
    const ref = readNpy(join(dir, 'reference.npy'));
    let se = 0;
    for (let k = 0; k < recon.data.length; k++) se += (recon.data[k]! - ref.data[k]!) ** 2;
    expect(Math.sqrt(se / recon.data.length)).toBeLessThan(0.02); // rank-2 map from 35 %: completed
    expect((r.metrics.reference as { rmseFreq: number }).rmseFreq).toBeLessThan(0.01);
    expect((r.metrics.svt as { iterations: number }).iterations).toBeGreaterThan(0);
    expect(r.metrics.sampledFraction).toBeGreaterThan(0.25);
  });

  it('refuses bad folders with the file and the problem named', async () => {
    const dir = join(tmp.dir, 'bad');
    mkdirSync(dir);
    expect(() => readCosyDataset(dir)).toThrow(/manifest.json not found/);
    writeCosyDataset(dir, { grid: { n1: 4, n2: 5, t1StartUs: 4, t1StepUs: 18, t2StartUs: 4, t2StepUs: 18 }, map: new Float64Array(20).fill(Number.NaN) });
    expect(() => readCosyDataset(dir)).toThrow(/map.npy: no measured/);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...m, shape: [5, 4] }));
    expect(() => readCosyDataset(dir)).toThrow(/map.npy: shape \(4, 5\) does not match manifest shape \(5, 4\)/);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...m, kind: 'g2' }));
    expect(() => readCosyDataset(dir)).toThrow(/kind: must be 'cosy-2d', got "g2"/);
    await expect(reconstructCosyFolder({ input: dir, out: join(tmp.dir, 'o'), method: 'fft' as never })).rejects.toThrow(/--method: must be one of orig, mc, dl, dlmc, softimpute/);
  });
});
