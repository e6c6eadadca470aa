import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../drivers/core/rng.js';
import { readNpy } from '../../../drivers/core/npy.js';
import { RecordDecoder, parseHeader, PtuError } from '../../../pipelines/antibunching/ptu/format.js';
import { convertPtu, DEFAULT_PTU_OPTIONS } from '../../../pipelines/antibunching/ptu/convert.js';
import { readHbtScan } from '../../../pipelines/antibunching/reconstruct.js';
import { convertPtuCommand, type PtuFlags } from '../../../daemon/commands/convert.js';
import type { CommandIO } from '../../../daemon/commands/io.js';
import { header, ptuFile, REC_TYPES, type InEvent, type OutEvent, type PtuSpec } from '../../support/ptu.js';
import { hasNumpy } from '../../support/python.js';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'qscope-ptu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let nfile = 0;
function write(bytes: Uint8Array): string {
  const f = join(tmp, `f${nfile++}.ptu`);
  writeFileSync(f, bytes);
  return f;
}

function decodeFile(bytes: Buffer): OutEvent[] {
  const h = parseHeader(bytes, 'x.ptu');
  const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset + h.dataOffset, bytes.byteOffset + h.dataOffset + h.records * 4));
  const out: OutEvent[] = [];
  const d = new RecordDecoder(h);
  // Two chunks: the overflow correction must carry over.
  const cut = Math.floor(words.length / 2);
  for (const part of [words.subarray(0, cut), words.subarray(cut)])
    d.decode(part, { photon: (tPs, ch) => out.push({ kind: 'photon', ch, tPs }), marker: (tPs, ch) => out.push({ kind: 'marker', ch, tPs }) });
  return out;
}

/** Random time-ordered events spanning several wraps of the time field, with a long gap (several overflows in a row). */
function randomEvents(rng: Rng, rec: string, n: number): InEvent[] {
  const { family } = REC_TYPES[rec]!;
  const t2 = family.endsWith('t2');
  const chans = family === 'picoharp-t2' ? [0, 1, 2, 3] : family === 'picoharp-t3' ? [1, 2, 3, 4] : family === 'hydraharp-t2' ? [0, 1, 2, 8, 64] : [1, 2, 17, 64];
  const maxMarker = family.startsWith('picoharp') ? 15 : 15;
  const step = t2 ? 4e6 : 300;
  const events: InEvent[] = [];
  let time = 0;
  for (let i = 0; i < n; i++) {
    time += Math.floor(rng.uniform() * step) + (i === n >> 1 ? (t2 ? 2e8 : 9e5) : 0);
    const marker = rng.uniform() < 0.1;
    const ch = marker ? 1 + rng.int(maxMarker) : chans[rng.int(chans.length)]!;
    events.push(t2 ? { kind: marker ? 'marker' : 'photon', ch, ticks: time } : { kind: marker ? 'marker' : 'photon', ch, nsync: time, dtime: family === 'picoharp-t3' ? rng.int(4096) : rng.int(32768) });
  }
  return events;
}

describe('PTU records of every family decode to the events written', () => {
  for (const rec of Object.keys(REC_TYPES)) {
    it(rec, () => {
      const t2 = REC_TYPES[rec]!.family.endsWith('t2');
      const spec: PtuSpec = { rec, globalResolution: t2 ? 1e-12 : 50e-9, resolution: t2 ? undefined : 4e-12, events: randomEvents(new Rng(`ptu/${rec}`), rec, 2000) };
      const { bytes, expected, records } = ptuFile(spec);
      expect(records.length).toBeGreaterThan(2000); // overflow records were needed
      const got = decodeFile(bytes);
      expect(got.length).toBe(expected.length);
      expect(got).toEqual(expected);
      const h = parseHeader(bytes, 'x.ptu');
      expect(h.tags['File_GUID']).toBe('{4f5e1a2b-qscope-test}');
      expect(h.tags['File_Comment']).toBe('synthesised by qscope tests');
      expect(h.tags['HW_InpChan_CFDLevel[1]']).toBe(110);
    });
  }

  it('overflow rules by hand: PicoHarp fixed wraps, HydraHarp v1 fixed, v2 counted with 0 meaning 1', () => {
    const tags = (type: number, t3: boolean, n: number) => [
      { ident: 'TTResultFormat_TTTRRecType', type: 0x10000008, value: type },
      { ident: 'TTResult_NumberOfRecords', type: 0x10000008, value: n },
      { ident: 'MeasDesc_GlobalResolution', type: 0x20000008, value: t3 ? 1e-9 : 1e-12 },
      { ident: 'MeasDesc_Resolution', type: 0x20000008, value: 1e-12 },
    ];
    const run = (type: number, t3: boolean, words: number[]) => decodeFile(Buffer.concat([header(tags(type, t3, words.length)), Buffer.from(Uint32Array.from(words.map((w) => w >>> 0)).buffer)]));
    // HydraHarp v2 T2: overflow ×3, overflow with count 0 (= 1), photon ch index 1 (reported 2) at 5.
    expect(run(0x01010204, false, [(1 << 31) | (63 << 25) | 3, (1 << 31) | (63 << 25), (1 << 25) | 5])).toEqual([{ kind: 'photon', ch: 2, tPs: 4 * 33554432 + 5 }]);
    // HydraHarp v1 T2: the count field is ignored, each overflow adds 33552000.
    expect(run(0x00010204, false, [(1 << 31) | (63 << 25) | 3, (1 << 31) | (63 << 25) | 7, 9])).toEqual([{ kind: 'photon', ch: 1, tPs: 2 * 33552000 + 9 }]);
    // HydraHarp v2 T3: 2 overflows of 1024 syncs, then a marker 4 at nsync 10 and a photon with dtime 7.
    expect(run(0x01010304, true, [(1 << 31) | (63 << 25) | 2, (1 << 31) | (4 << 25) | 10, (0 << 25) | (7 << 10) | 11])).toEqual([
      { kind: 'marker', ch: 4, tPs: 2058 * 1000 },
      { kind: 'photon', ch: 1, tPs: 2059 * 1000 + 7 },
    ]);
    // PicoHarp T2: overflow (channel 15, markers 0), marker 2 at field 0x32, photon ch 1.
    expect(run(0x00010203, false, [0xf << 28, (0xf << 28) | 0x32, (1 << 28) | 100])).toEqual([
      { kind: 'marker', ch: 2, tPs: 210698240 + 0x32 },
      { kind: 'photon', ch: 1, tPs: 210698240 + 100 },
    ]);
    // PicoHarp T3: two overflows of 65536 syncs, photon ch 3 dtime 5 nsync 1.
    expect(run(0x00010303, true, [0xf << 28, 0xf << 28, (3 << 28) | (5 << 16) | 1])).toEqual([{ kind: 'photon', ch: 3, tPs: (2 * 65536 + 1) * 1000 + 5 }]);
  });
});

/** Two detector streams (Poisson, with pairs at small delays so the histogram has structure), one-ms windows. */
function spotEvents(rng: Rng, rec: string, durationPs: number, ratePerPs: number): InEvent[] {
  const t2 = REC_TYPES[rec]!.family.endsWith('t2');
  const tickPs = rec.startsWith('PicoHarp T2') ? 4 : 1;
  const first = REC_TYPES[rec]!.family === 'picoharp-t2' ? 0 : 1;
  const list: { t: number; ch: number }[] = [];
  for (let t = 0; ; ) {
    t += -Math.log(1 - rng.uniform()) / ratePerPs;
    if (t >= durationPs) break;
    list.push({ t: Math.floor(t), ch: first + rng.int(2) });
    if (rng.uniform() < 0.2) list.push({ t: Math.floor(t + rng.range(-40e3, 40e3)), ch: first + rng.int(2) });
    if (rng.uniform() < 0.05) list.push({ t: Math.floor(t), ch: first + 2 }); // a third channel the converter must ignore
  }
  list.sort((a, b) => a.t - b.t);
  const syncPs = 100_000;
  return list.filter((e) => e.t >= 0 && e.t < durationPs).map((e) => (t2 ? { kind: 'photon', ch: e.ch, ticks: Math.floor(e.t / tickPs) } : { kind: 'photon', ch: e.ch, nsync: Math.floor(e.t / syncPs), dtime: Math.floor((e.t % syncPs) / 25) }));
}

/** All-pairs reference histogram (the test's own, quadratic). */
function bruteForce(expected: OutEvent[], a: number, b: number, windowPs: number, k: number, bins: number, rangeNs: number) {
  const w = (rangeNs * 1000) / bins;
  const lo = -(Math.floor(bins / 2) + 0.5) * w;
  const H = Array.from({ length: k }, () => new Array<number>(bins).fill(0));
  const counts = new Array<number>(k).fill(0);
  const byWin = new Map<number, OutEvent[]>();
  for (const e of expected) {
    const win = Math.floor(e.tPs / windowPs);
    if (e.kind !== 'photon' || (e.ch !== a && e.ch !== b) || win >= k) continue;
    counts[win]!++;
    if (!byWin.has(win)) byWin.set(win, []);
    byWin.get(win)!.push(e);
  }
  for (const [win, es] of byWin)
    for (const x of es)
      for (const y of es) {
        if (x.ch !== a || y.ch !== b) continue;
        const bin = Math.floor((y.tPs - x.tPs - lo) / w);
        if (bin >= 0 && bin < bins) H[win]![bin]!++;
      }
  return { H, counts };
}

const SPOT_RECS = ['PicoHarp T2', 'PicoHarp T3', 'HydraHarp v2 T2', 'HydraHarp v1 T3', 'MultiHarp T3'];

describe('qscope convert ptu: single spot', () => {
  for (const rec of SPOT_RECS) {
    it(`${rec}: histograms and counts per window match an all-pairs count`, () => {
      const t2 = REC_TYPES[rec]!.family.endsWith('t2');
      const durationMs = 3;
      const { bytes, expected } = ptuFile({ rec, globalResolution: t2 ? (rec.startsWith('PicoHarp') ? 4e-12 : 1e-12) : 100e-9, resolution: t2 ? undefined : 25e-12, acquisitionMs: durationMs, events: spotEvents(new Rng(`spot/${rec}`), rec, durationMs * 1e9, 1.5e-6) });
      const file = write(bytes);
      const out = join(tmp, `spot-${nfile}`);
      const r = convertPtu(file, out, { ...DEFAULT_PTU_OPTIONS, windowS: 1e-3 });
      const a = rec === 'PicoHarp T2' ? 0 : 1;
      expect(r.channels).toEqual([a, a + 1]);
      expect(r.k).toBe(3);
      const ref = bruteForce(expected, a, a + 1, 1e9, 3, 215, 500);
      const h = readNpy(join(out, 'histograms.npy'));
      expect(h.shape).toEqual([1, 1, 3, 215]);
      expect(Array.from(h.data as Uint32Array)).toEqual(ref.H.flat());
      expect(ref.H.flat().reduce((s, x) => s + x, 0)).toBeGreaterThan(500);
      expect(Array.from(readNpy(join(out, 'counts.npy')).data as Float64Array)).toEqual(ref.counts);
      const ds = readHbtScan(out);
      expect([ds.ny, ds.nx, ds.k, ds.geometry.bins, ds.geometry.zeroBin]).toEqual([1, 1, 3, 215, 107]);
      expect(ds.geometry.binWidthNs).toBeCloseTo(500 / 215, 12);
      expect(ds.integrationS).toBe(1e-3);
    });
  }

  it('--channels picks the pair (reversed order mirrors the histogram)', () => {
    const { bytes } = ptuFile({ rec: 'HydraHarp v2 T2', globalResolution: 1e-12, acquisitionMs: 2, events: spotEvents(new Rng('mirror'), 'HydraHarp v2 T2', 2e9, 0.8e-6) });
    const file = write(bytes);
    convertPtu(file, join(tmp, 'ab'), { ...DEFAULT_PTU_OPTIONS, windowS: 1e-3, bins: 11, rangeNs: 110, channels: [1, 2] });
    convertPtu(file, join(tmp, 'ba'), { ...DEFAULT_PTU_OPTIONS, windowS: 1e-3, bins: 11, rangeNs: 110, channels: [2, 1] });
    const ab = Array.from(readNpy(join(tmp, 'ab', 'histograms.npy')).data as Uint32Array);
    const ba = Array.from(readNpy(join(tmp, 'ba', 'histograms.npy')).data as Uint32Array);
    const rev = [...ba.slice(0, 11).reverse(), ...ba.slice(11).reverse()];
    expect(ab).toEqual(rev);
    expect(ab.reduce((s, x) => s + x, 0)).toBeGreaterThan(50);
  });

  // Cross-check against an independent decoder and histogrammer written with NumPy (skipped without python3 + numpy).
  it.runIf(hasNumpy)('histograms equal a NumPy reference decoder, for T2 and T3 files (needs python3 + numpy)', () => {
    for (const rec of ['HydraHarp v2 T2', 'PicoHarp T3', 'TimeHarp 260 P T3']) {
      const t2 = rec.includes('T2');
      const { bytes } = ptuFile({ rec, globalResolution: t2 ? 1e-12 : 100e-9, resolution: t2 ? undefined : 25e-12, acquisitionMs: 4, events: spotEvents(new Rng(`np/${rec}`), rec, 4e9, 1e-6) });
      const file = write(bytes);
      const out = join(tmp, `np-${nfile}`);
      convertPtu(file, out, { ...DEFAULT_PTU_OPTIONS, windowS: 1e-3, bins: 101, rangeNs: 300, channels: [2, 1] });
      const ref = JSON.parse(execFileSync('python3', [join(here, '../../support/ptu_reference.py'), file, '101', '300', '0.001', '2', '1']).toString());
      expect(ref.k).toBe(4);
      expect(Array.from(readNpy(join(out, 'histograms.npy')).data as Uint32Array)).toEqual(ref.histograms.flat());
      expect(Array.from(readNpy(join(out, 'counts.npy')).data as Float64Array)).toEqual(ref.counts);
    }
  });
});

describe('qscope convert ptu: scan from line/frame markers', () => {
  it('PicoHarp T3: photons land in the pixel and frame their markers delimit; retrace photons count nowhere', () => {
    // 2 frames × 2 lines × 4 pixels; a line lasts 4000 syncs (100 ns each), 1000 per pixel; retrace 500 syncs.
    const ev: InEvent[] = [];
    let s = 10;
    const pairsAt = new Map<string, number>();
    for (let f = 0; f < 2; f++) {
      ev.push({ kind: 'marker', ch: 4, nsync: s++ });
      for (let y = 0; y < 2; y++) {
        const start = s;
        ev.push({ kind: 'marker', ch: 1, nsync: start });
        for (let x = 0; x < 4; x++) {
          // (x + 1 + y + f) pairs in pixel (y, x) of frame f, delay +2 syncs·100 ns = 200 ns… too far: use dtime for +10 ns.
          const n = x + 1 + 2 * y + 4 * f;
          pairsAt.set(`${y},${x},${f}`, n);
          for (let i = 0; i < n; i++) {
            const ns = start + x * 1000 + 100 + i * 50;
            ev.push({ kind: 'photon', ch: 1, nsync: ns, dtime: 0 });
            ev.push({ kind: 'photon', ch: 2, nsync: ns, dtime: 400 }); // +10 ns at 25 ps
          }
        }
        s = start + 4000;
        ev.push({ kind: 'marker', ch: 2, nsync: s });
        ev.push({ kind: 'photon', ch: 1, nsync: s + 100, dtime: 0 }); // retrace
        ev.push({ kind: 'photon', ch: 2, nsync: s + 100, dtime: 40 });
        s += 500;
      }
    }
    const file = write(ptuFile({ rec: 'PicoHarp T3', globalResolution: 100e-9, resolution: 25e-12, events: ev }).bytes);
    const out = join(tmp, 'scan');
    const r = convertPtu(file, out, { ...DEFAULT_PTU_OPTIONS, scan: { nx: 4, ny: 2, lineStart: 1, lineStop: 2, frame: 3 } });
    expect([r.shape, r.k]).toEqual([[2, 4], 2]);
    expect(r.integrationS).toBeCloseTo((1000 * 100e-9), 15);
    const h = readNpy(join(out, 'histograms.npy'));
    expect(h.shape).toEqual([2, 4, 2, 215]);
    const data = h.data as Uint32Array;
    const bin10ns = Math.floor((10 + (107.5 * 500) / 215) / (500 / 215));
    for (const [key, n] of pairsAt) {
      const [y, x, f] = key.split(',').map(Number) as [number, number, number];
      const row = data.subarray(((y * 4 + x) * 2 + f) * 215, ((y * 4 + x) * 2 + f + 1) * 215);
      // n pairs at +10 ns; the other pairs of the pixel are ≥ 5 µs apart (outside ±250 ns).
      expect(row[bin10ns]).toBe(n);
      expect(row.reduce((s2, v) => s2 + v, 0)).toBe(n);
    }
    const ds = readHbtScan(out);
    expect([ds.ny, ds.nx, ds.k]).toEqual([2, 4, 2]);
    expect(Array.from(ds.acquired)).toEqual(new Array(8).fill(2));
  });

  it('without a frame marker a frame is NY lines; a partial last frame leaves later lines with fewer windows', () => {
    const ev: InEvent[] = [];
    let t = 1000;
    for (let line = 0; line < 3; line++) {
      ev.push({ kind: 'marker', ch: 1, ticks: t });
      ev.push({ kind: 'photon', ch: 1, ticks: t + 10_000 });
      ev.push({ kind: 'photon', ch: 2, ticks: t + 10_500 });
      ev.push({ kind: 'marker', ch: 2, ticks: t + 1_000_000 });
      t += 2_000_000;
    }
    const file = write(ptuFile({ rec: 'MultiHarp T2', globalResolution: 1e-12, events: ev }).bytes);
    const r = convertPtu(file, join(tmp, 'noframe'), { ...DEFAULT_PTU_OPTIONS, scan: { nx: 2, ny: 2, lineStart: 1, lineStop: 2, frame: 0 } });
    expect(r.k).toBe(2);
    const ds = readHbtScan(join(tmp, 'noframe'));
    expect(Array.from(ds.acquired)).toEqual([2, 2, 1, 1]);
    expect(r.events).toBe(3);
  });
});

describe('bad files and flags: clear errors, exit 2, nothing written', () => {
  const io = () => {
    const o = { stdout: '', stderr: '', out: (s: string) => void (o.stdout += s), err: (s: string) => void (o.stderr += s) };
    return o as CommandIO & { stdout: string; stderr: string };
  };
  const flags = (out: string, more: Partial<PtuFlags> = {}): PtuFlags => ({ out, bins: '215', rangeNs: '500', windowS: '1', lineStartMarker: '1', lineStopMarker: '2', frameMarker: '3', pixelSizeNm: '100', ...more });
  const good = ptuFile({ rec: 'HydraHarp v2 T2', globalResolution: 1e-12, acquisitionMs: 2, events: spotEvents(new Rng('bad'), 'HydraHarp v2 T2', 2e9, 0.5e-6) });
  const cases: [string, Uint8Array, RegExp, Partial<PtuFlags>?][] = [
    ['a PNG', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), /not a PicoQuant PTU file \(magic/],
    ['a PicoQuant histogram file', header([], 'PQHISTO'), /histogram file \(PHU/],
    ['an empty file', new Uint8Array(0), /shorter than its 16-byte preamble/],
    ['a header cut in a tag', good.bytes.subarray(0, 16 + 48 * 3 + 20), /truncated header: tag File_Comment needs 56 bytes/],
    ['records cut short', good.bytes.subarray(0, good.bytes.length - 10), /truncated: the header declares \d+ records/],
    ['an unsupported record type', header([{ ident: 'TTResultFormat_TTTRRecType', type: 0x10000008, value: 0x00010101 }]), /unsupported record type 0x00010101/],
    ['a channel without photons', good.bytes, /--channels: channel 7 has no photons/, { channels: '1,7' }],
    ['equal channels', good.bytes, /--channels: start and stop channels must differ/, { channels: '1,1' }],
    ['bad bins', good.bytes, /--bins: not a number/, { bins: 'many' }],
    ['a window longer than the recording', good.bytes, /shorter than one --window-s window/, { windowS: '5' }],
    ['a scan with no line markers', good.bytes, /no scan lines/, { pixels: '4,4' }],
  ];
  for (const [what, bytes, re, more] of cases) {
    it(what, async () => {
      const file = write(bytes);
      const out = join(tmp, `bad-${nfile}`);
      const o = io();
      expect(await convertPtuCommand(file, flags(out, more), o)).toBe(2);
      expect(o.stderr).toMatch(re);
      expect(o.stderr).toMatch(/^qscope convert ptu: /);
      expect(() => readFileSync(join(out, 'manifest.json'))).toThrow();
    });
  }

  it('records out of time order are refused as corrupt', () => {
    const ev: InEvent[] = [{ kind: 'photon', ch: 1, ticks: 5000 }, { kind: 'photon', ch: 2, ticks: 100 }];
    // encode() would wrap; write the two records directly.
    const b = Buffer.concat([header([
      { ident: 'TTResultFormat_TTTRRecType', type: 0x10000008, value: 0x01010204 },
      { ident: 'TTResult_NumberOfRecords', type: 0x10000008, value: 2 },
      { ident: 'MeasDesc_GlobalResolution', type: 0x20000008, value: 1e-12 },
    ]), Buffer.from(Uint32Array.from([ev[0]!.ticks!, (1 << 25) | ev[1]!.ticks!]).buffer)]);
    expect(() => convertPtu(write(b), join(tmp, 'order'), DEFAULT_PTU_OPTIONS)).toThrow(PtuError);
    expect(() => convertPtu(write(b), join(tmp, 'order'), DEFAULT_PTU_OPTIONS)).toThrow(/out of time order at event 1 /);
  });
});

describe('the CLI', () => {
  it('qscope convert ptu writes a folder that qscope reconstruct g2 reads', async () => {
    const { bytes } = ptuFile({ rec: 'HydraHarp v2 T2', globalResolution: 1e-12, acquisitionMs: 3, events: spotEvents(new Rng('cli'), 'HydraHarp v2 T2', 3e9, 0.8e-6) });
    const file = write(bytes);
    const cli = join(here, '../../../dist/daemon/cli.js');
    const out = join(tmp, 'cli-out');
    const { stdout } = await promisify(execFile)('node', [cli, 'convert', 'ptu', file, '--out', out, '--window-s', '0.001']);
    expect(stdout).toMatch(/hbt-scan 1×1 px × 3 windows of 0.001 s from HydraHarp v2 T2/);
    const rec = await promisify(execFile)('node', [cli, 'reconstruct', 'g2', '--input', out, '--out', join(tmp, 'cli-rec'), '--method', 'shape-fixed-ml', '--no-early-stop']);
    expect(JSON.parse(rec.stdout).availableS).toBeCloseTo(0.003, 9);
    const bad = await promisify(execFile)('node', [cli, 'convert', 'ptu', join(tmp, 'missing.ptu'), '--out', join(tmp, 'x')]).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/missing.ptu: cannot open \(ENOENT\)/);
  });
});
