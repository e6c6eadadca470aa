import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultExporters, exportSession } from '../../../daemon/datasets/export.js';
import { readNpy } from '../../../drivers/core/npy.js';
import { reconstructG2, DEFAULT_RECONSTRUCT } from '../../../pipelines/antibunching/reconstruct.js';
import { scanRig, lastResult } from './scan-rig.js';

describe('antibunching-scan session metadata', () => {
  it('lists the g2 CNN model hash and its tfjs backend from the start, whatever the method', async () => {
    const rig = await scanRig({}, 3);
    try {
      const dir = join(import.meta.dirname, '..', '..', '..', 'pipelines', 'antibunching', 'model');
      const expected = createHash('sha256').update(readFileSync(join(dir, 'model.json'))).update(readFileSync(join(dir, 'weights.bin'))).digest('hex');
      const id = await rig.engine.start('antibunching-scan', { nx: 2, ny: 2, prescanPixels: 2, calibrationS: 1, method: 'shape-fixed-ml' });
      const r = rig.store.open(id);
      try {
        expect(r.session()).toMatchObject({ modelHashes: { g2cnn: expected }, tfBackend: 'wasm' });
      } finally {
        r.close();
      }
      await rig.engine.abort(id);
      expect((await rig.engine.whenEnded(id)).state).toBe('aborted');
    } finally {
      await rig.cleanup();
    }
  });
});

describe('plan antibunching-scan on the virtual clock', () => {
  let rig: Awaited<ReturnType<typeof scanRig>>;
  let id: string;
  beforeAll(async () => {
    rig = await scanRig({}, 7);
    id = await rig.engine.start('antibunching-scan', { nx: 16, ny: 16, method: 'pooled', targetFraction: 0.05, maxDwellS: 20 });
    const st = await rig.engine.whenEnded(id);
    expect(st.state).toBe('completed');
  }, 300_000);
  afterAll(async () => rig?.cleanup());

  it('pre-scans, calibrates on the brightest spot, and records everything', () => {
    expect(rig.engine.frames(id, 'hbt0.rate').filter((f) => f.header.phase === 'prescan')).toHaveLength(256);
    const cal = lastResult(rig.engine, id, 'g2.calibration');
    const [t1] = cal.payload;
    // The full model is poorly conditioned (t2 and a2 trade against the scale), so only roughly (bench: MODEL.md).
    const truth = rig.world.scene<{ emitters: { t1Ns: number }[] }>('emitters', () => ({ emitters: [] })).emitters[0]!.t1Ns;
    expect(t1! / truth).toBeGreaterThan(0.5);
    expect(t1! / truth).toBeLessThan(2.5);
    expect(rig.engine.frames(id, 'hbt0.histogram').length).toBeGreaterThan(256);
  });

  it('stops pixels early: dark pixels after 1 s, bright ones on precision before the cap', () => {
    const dwell = lastResult(rig.engine, id, 'g2.dwell_s').payload;
    const pl = lastResult(rig.engine, id, 'g2.pl').payload;
    const total = dwell.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(0.5 * 256 * 20);
    // The darkest quarter of the field dwelt 1 s, the brightest pixel longer.
    const order = [...pl.keys()].sort((a, b) => pl[a]! - pl[b]!);
    for (const p of order.slice(0, 64)) expect(dwell[p]).toBe(1);
    expect(dwell[order[255]!]).toBeGreaterThan(1);
    const between = [...dwell].filter((d) => d > 1 && d < 20).length;
    expect(between).toBeGreaterThan(5);
  });

  it('emits PL, g2, G2, dwell maps and PNGs; the G2 image is narrower than PL by about √2', () => {
    for (const s of ['g2.pl', 'g2.g2', 'g2.g2_std', 'g2.G2', 'g2.G2_std', 'g2.dwell_s', 'g2.crb']) expect(lastResult(rig.engine, id, s).header.shape).toEqual([16, 16]);
    const png = rig.engine.frames(id, 'g2.png_G2')[0]!.payload as Uint8Array;
    expect(Array.from(png.slice(1, 4))).toEqual([0x50, 0x4e, 0x47]); // "PNG"
    const m = lastResult(rig.engine, id, 'g2.metrics').header as { plFwhmNm: number; g2FwhmNm: number; fwhmRatio: number };
    expect(m.plFwhmNm).toBeGreaterThan(285);
    expect(m.plFwhmNm).toBeLessThan(315);
    expect(m.fwhmRatio).toBeGreaterThan(0.6);
    expect(m.fwhmRatio).toBeLessThan(0.82);
  });

  it('publishes the maps progressively, throttled by experiment time, before the final maps', () => {
    const live = rig.engine.frames(id, 'g2.live_pl');
    const final = rig.engine.frames(id, 'g2.pl')[0]!;
    expect(live.length).toBeGreaterThan(3);
    // At most one update per liveMapS (default 10 s) of experiment time, all before the final map.
    for (let i = 1; i < live.length; i++) expect(live[i]!.header.t - live[i - 1]!.header.t).toBeGreaterThanOrEqual(10e9);
    expect(live.at(-1)!.header.t).toBeLessThan(final.header.t);
    // They fill in: each update covers at least as many pixels as the one before, the last nearly all of them.
    const filled = live.map((f) => [...f.payload].filter((v) => v > 0).length);
    for (let i = 1; i < filled.length; i++) expect(filled[i]).toBeGreaterThanOrEqual(filled[i - 1]!);
    expect(filled[0]).toBeLessThan(64);
    expect(filled.at(-1)).toBeGreaterThan(200);
    const lastLive = live.at(-1)!;
    expect(lastLive.header).toMatchObject({ dtype: 'f32', shape: [16, 16], unit: 'counts/s', live: true });
    // The live dwell map agrees with the final one wherever the pixel was finished by then.
    const dwellLive = rig.engine.frames(id, 'g2.live_dwell_s').at(-1)!.payload;
    const dwellFinal = lastResult(rig.engine, id, 'g2.dwell_s').payload;
    const done = Number(lastLive.header.pixel);
    for (let p = 0; p < done; p++) expect(dwellLive[p]).toBe(dwellFinal[p]);
    // The current pixel's histogram with the fitted curve: same total counts (ML scale), two rows of 215 bins.
    const fit = rig.engine.frames(id, 'g2.live_fit').at(-1)!;
    expect(fit.header.shape).toEqual([2, 215]);
    const [counts, model] = [fit.payload.subarray(0, 215), fit.payload.subarray(215)];
    const sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0);
    expect(sum(model)).toBeCloseTo(sum(counts), 6);
  });

  it('qscope export writes the hbt-scan dataset and PNGs; reconstruct g2 reads it back', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'qscope-g2-export-'));
    try {
      const reader = rig.store.open(id);
      try {
        exportSession(reader, join(tmp, 'export'), await createDefaultExporters());
      } finally {
        reader.close();
      }
      const m = JSON.parse(readFileSync(join(tmp, 'export', 'manifest.json'), 'utf8'));
      expect(m.kind).toBe('hbt-scan');
      expect(m.shape).toEqual([16, 16]);
      expect(m.parameters.bins).toBe(215);
      for (const f of ['histograms.npy', 'counts.npy', 'dwell_s.npy', 'G2.png', 'pl.png']) expect(existsSync(join(tmp, 'export', f))).toBe(true);
      const h = readNpy(join(tmp, 'export', 'histograms.npy'));
      expect(h.shape.slice(0, 2)).toEqual([16, 16]);
      expect(h.shape[3]).toBe(215);
      // Replaying the stop rule on the exported data reproduces the online dwell map exactly.
      const metrics = await reconstructG2(join(tmp, 'export'), join(tmp, 'rec'), { ...DEFAULT_RECONSTRUCT, maxDwellS: 20 });
      const online = lastResult(rig.engine, id, 'g2.dwell_s').payload;
      const offline = readNpy(join(tmp, 'rec', 'dwell_s.npy')).data as Float64Array;
      expect(Array.from(offline)).toEqual(Array.from(online));
      expect(Number(metrics.fwhmRatio)).toBeCloseTo(Number((lastResult(rig.engine, id, 'g2.metrics').header as { fwhmRatio: number }).fwhmRatio), 6);
      for (const f of ['g2.npy', 'g2_std.npy', 'pl.npy', 'G2.npy', 'dwell_s.npy', 'metrics.json', 'G2.png']) expect(existsSync(join(tmp, 'rec', f))).toBe(true);
      // Without early stopping every acquired histogram is used: the same dwell (the export holds no more).
      const all = await reconstructG2(join(tmp, 'export'), join(tmp, 'rec-all'), { ...DEFAULT_RECONSTRUCT, earlyStop: false });
      expect(all.totalDwellS).toBe(metrics.totalDwellS);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
