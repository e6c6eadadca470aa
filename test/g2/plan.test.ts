import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanRig, lastResult } from './scan-rig.js';

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
    expect(t1).toBeGreaterThan(10);
    expect(t1).toBeLessThan(40);
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
});
