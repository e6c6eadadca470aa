/**
 * Exports a person can read: images and the experiment's dataset at the top,
 * raw streams under raw/, every array described in manifest.json with axes
 * (one per dimension) and units, no PNG bytes stored as arrays; cosy-2d
 * exports write titled PNGs and a spectrum with zero frequency in the middle.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { createDefaultExporters, exportSession } from '../../../daemon/datasets/export.js';
import { importDataset } from '../../../daemon/datasets/import.js';
import { readNpy } from '../../../drivers/core/npy.js';
import type { Manifest } from '../../../pipelines/core/manifest.js';
import { fftshift2 } from '../../../pipelines/cosy/dataset.js';
import { scanRig } from '../../pipelines/antibunching/scan-rig.js';
import { cosyRig, tmpDir } from '../../pipelines/cosy/helpers.js';

function everyArrayDescribed(dir: string, m: Manifest): void {
  for (const a of m.arrays!) {
    expect(existsSync(join(dir, a.file)), a.file).toBe(true);
    if (a.role === 'image') {
      expect(a.file, 'an encoded image is a .png, never an array').toMatch(/\.png$/);
      expect(PNG.sync.read(readFileSync(join(dir, a.file))).width).toBeGreaterThan(0);
      continue;
    }
    const npy = readNpy(join(dir, a.file));
    expect(npy.shape, a.file).toEqual(a.shape);
    expect(a.axes, `${a.file}: axes`).toHaveLength(a.shape.length);
    for (const ax of a.axes!) expect(typeof ax.name === 'string' && typeof ax.unit === 'string', `${a.file}: ${JSON.stringify(ax)}`).toBe(true);
    if (a.role === 'frames' || a.role === 'single' || a.role === 't') expect(a.file.startsWith('raw/'), a.file).toBe(true);
    else expect(a.file.includes('/'), `${a.file} at the top`).toBe(false);
  }
}

describe('export layout: antibunching-scan (hbt-scan)', () => {
  let rig: Awaited<ReturnType<typeof scanRig>>;
  let id: string;
  const tmp = tmpDir();
  beforeAll(async () => {
    rig = await scanRig({}, 7);
    id = await rig.engine.start('antibunching-scan', { nx: 4, ny: 3, prescanPixels: 2, calibrationS: 60, maxDwellS: 3 });
    expect((await rig.engine.whenEnded(id)).state).toBe('completed');
  }, 120_000);
  afterAll(async () => {
    await rig?.cleanup();
    tmp.cleanup();
  });

  it('images and dataset at the top, raw streams under raw/, axes and units for every array', async () => {
    const out = join(tmp.dir, 'scan');
    const reader = rig.store.open(id);
    try {
      exportSession(reader, out, await createDefaultExporters());
    } finally {
      reader.close();
    }
    const top = readdirSync(out).sort();
    expect(top).toEqual(expect.arrayContaining(['G2.png', 'pl.png', 'histograms.npy', 'counts.npy', 'dwell_s.npy', 'calibration.npy', 'G2.npy', 'pl.npy', 'g2.npy', 'manifest.json', 'raw']));
    // Nothing at the top but images, the dataset, the final maps and the manifest.
    expect(top.filter((f) => !/\.(png|npy)$/.test(f))).toEqual(['manifest.json', 'raw']);
    expect(top.some((f) => /png_/.test(f))).toBe(false);
    expect(readdirSync(join(out, 'raw'))).toEqual(expect.arrayContaining(['hbt0.histogram.npy', 'hbt0.histogram.t.npy', 'hbt0.histogram.headers.json', 'events.json']));
    // No encoded image anywhere as an array: the PNG result streams are .png files.
    expect(readdirSync(join(out, 'raw')).filter((f) => /png/.test(f) && f.endsWith('.npy') && !f.endsWith('.t.npy'))).toEqual([]);

    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(m.kind).toBe('hbt-scan');
    const pixel = 775 / 4;
    expect(m.axes).toEqual([
      { name: 'y', unit: 'nm', start: 50_000 - pixel, step: pixel },
      { name: 'x', unit: 'nm', start: 50_000 - 1.5 * pixel, step: pixel },
    ]);
    everyArrayDescribed(out, m);
    const hist = m.arrays!.find((a) => a.file === 'histograms.npy')!;
    expect(hist).toMatchObject({ role: 'dataset', unit: 'counts', dtype: 'u32' });
    expect(hist.axes!.map((a) => `${a.name}/${a.unit}`)).toEqual(['y/nm', 'x/nm', 'window/1', 'delay/ns']);
    expect(hist.axes![3]!.step).toBeCloseTo(500 / 215, 9);
    const g2map = m.arrays!.find((a) => a.file === 'g2.npy')!;
    expect(g2map).toMatchObject({ role: 'map', shape: [3, 4], longName: 'g2(0)' });
    expect(g2map.axes!.map((a) => a.name)).toEqual(['y', 'x']);
    expect(Array.from(readNpy(join(out, 'g2.npy')).data as Float64Array)).toEqual(Array.from(rig.engine.frames(id, 'g2.g2').at(-1)!.payload as Float64Array));
    expect(m.arrays!.filter((a) => a.role === 'image').map((a) => a.stream)).toEqual(expect.arrayContaining(['g2.png_G2']));

    // The folder still imports as the same session (PNG streams included, byte for byte).
    const imported = importDataset(out, join(tmp.dir, 'imported.db'));
    expect(imported.kind).toBe('session');
    expect(imported.results).toBe(rig.engine.session(id).results);
  });
});

describe('export layout: cosy-2d', () => {
  it('writes titled PNGs with axes and a colour bar, the spectrum fftshifted, axes in ms and kHz', async () => {
    const tmp = tmpDir();
    try {
      const { engine } = await cosyRig(join(tmp.dir, 'sessions'));
      const id = await engine.start('cosy-2d', { n1: 16, n2: 20, method: 'orig', strategy: 'uniform', initialFraction: 0.2, batchFraction: 0.1, budgetFraction: 0.3, tol: 1e-9, readouts: 1000 });
      expect((await engine.whenEnded(id)).state).toBe('completed');
      const out = join(tmp.dir, 'cosy');
      const reader = engine.store.open(id);
      try {
        exportSession(reader, out, await createDefaultExporters());
      } finally {
        reader.close();
      }
      for (const f of ['map.png', 'recon.png', 'spectrum.png', 'mask.png']) {
        const png = PNG.sync.read(readFileSync(join(out, f)));
        // Not a bare 4×-enlarged grey square: margins for title, ticks and colour bar, and colour.
        expect(png.width).toBeGreaterThan(20 * 15 + 100);
        let coloured = 0;
        for (let i = 0; i < png.data.length; i += 4) if (png.data[i] !== png.data[i + 1] || png.data[i + 1] !== png.data[i + 2]) coloured++;
        expect(coloured).toBeGreaterThan(1000);
      }
      const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
      everyArrayDescribed(out, m);
      const spec = m.arrays!.find((a) => a.file === 'spectrum.npy')!;
      expect(spec.axes!.map((a) => `${a.name}/${a.unit}`)).toEqual(['f1/kHz', 'f2/kHz']);
      expect(spec.axes![0]!.start).toBeCloseTo(-8 * (1e3 / (16 * 18)), 9);
      expect(m.arrays!.find((a) => a.file === 'map.npy')!.axes!.map((a) => `${a.name}/${a.unit}`)).toEqual(['t1/ms', 't2/ms']);
      // Zero frequency in the middle: the exported spectrum is the recorded one, fftshifted.
      const recorded = engine.frames(id, 'cosy.spectrum').at(-1)!.payload as Float64Array;
      expect(Array.from(readNpy(join(out, 'spectrum.npy')).data as Float64Array)).toEqual(Array.from(fftshift2(recorded, 16, 20)));
      expect(fftshift2([0, 1, 2, 3, 4, 5], 2, 3)).toEqual(Float64Array.from([5, 3, 4, 2, 0, 1]));
    } finally {
      tmp.cleanup();
    }
  });
});
