/**
 * A PTU recording → an `hbt-scan` dataset folder (decision 0703, read by
 * `qscope reconstruct g2`). Synchronous and streaming (the file is read in
 * chunks, twice): run it in a worker thread (convert-client.ts).
 *
 * Pass 1 finds the photon channels, the recording's length and — for a scan —
 * the lines delimited by the markers. Pass 2 histograms the A–B pairs of each
 * window (pairs.ts): one window per `windowS` for a single spot (shape
 * [1, 1], k windows), or one per pixel per frame for a scan (shape [ny, nx],
 * k frames; each line between its start and stop markers is cut into nx
 * equal pixels; photons outside a line, e.g. on the retrace, count nowhere).
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { encodeNpy } from '../../../drivers/core/npy.js';
import { PtuError, RecordDecoder, SYNC_CHANNEL, parseHeader, type EventSink, type PtuHeader } from './format.js';
import { PairHistogrammer } from './pairs.js';

export interface ScanMarkers {
  /** Pixels per line, lines per frame. */
  nx: number;
  ny: number;
  /** Marker numbers (1–15 for HydraHarp-family files, 1–4 for PicoHarp): marker m is bit m−1 of the marker mask. */
  lineStart: number;
  lineStop: number;
  /** 0: no frame marker, a frame is ny lines. */
  frame: number;
}

export interface PtuConvertOptions {
  /** Detector channels A (start) and B (stop); default the two lowest channels carrying photons (sync excluded). */
  channels?: [number, number];
  bins: number;
  rangeNs: number;
  /** Single spot: window length, s. */
  windowS: number;
  scan?: ScanMarkers;
  pixelSizeNm: number;
}

export const DEFAULT_PTU_OPTIONS: PtuConvertOptions = { bins: 215, rangeNs: 500, windowS: 1, pixelSizeNm: 100 };

export interface PtuConvertResult {
  out: string;
  recordType: string;
  records: number;
  overflows: number;
  channels: [number, number];
  /** Photons per channel in the whole file. */
  photonsPerChannel: Record<string, number>;
  markers: number;
  shape: [number, number];
  k: number;
  integrationS: number;
  /** Coincidences histogrammed and photons counted (channels A and B). */
  events: number;
  photons: number;
  /** Scan: lines dropped (beyond ny in a frame). */
  droppedLines: number;
  files: string[];
}

const CHUNK_RECORDS = 1 << 18;
const MAX_HISTOGRAM_CELLS = 1 << 28;

interface Line {
  start: number;
  stop: number;
  frame: number;
  y: number;
}

/** Reads the header, growing the read when tags need more than the first MiB. */
export function readPtuHeader(fd: number, size: number, file: string): PtuHeader {
  let len = Math.min(size, 1 << 20);
  for (;;) {
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, 0);
    try {
      return parseHeader(buf, file);
    } catch (err) {
      if (len >= size || !(err instanceof PtuError) || !/truncated header/.test(err.message)) throw err;
      len = Math.min(size, len * 8);
    }
  }
}

function forEachChunk(fd: number, h: PtuHeader, fn: (words: Uint32Array) => void): void {
  const buf = new Uint32Array(CHUNK_RECORDS);
  const bytes = new Uint8Array(buf.buffer);
  let done = 0;
  while (done < h.records) {
    const n = Math.min(CHUNK_RECORDS, h.records - done);
    const got = readSync(fd, bytes, 0, n * 4, h.dataOffset + done * 4);
    if (got !== n * 4) throw new PtuError('', `short read at record ${done}`);
    fn(buf.subarray(0, n));
    done += n;
  }
}

/** Scan lines from the marker sequence: [start, stop) in ps, frame and line index. */
class LineTracker {
  readonly lines: Line[] = [];
  droppedLines = 0;
  private open: number | undefined;
  private frame = 0;
  private y = 0;
  constructor(private readonly s: ScanMarkers) {}

  marker(t: number, mask: number): void {
    const s = this.s;
    // A frame marker and a line start in one record: the frame advances first.
    if (s.frame > 0 && mask & (1 << (s.frame - 1)) && this.y > 0) {
      this.frame++;
      this.y = 0;
    }
    if (mask & (1 << (s.lineStop - 1)) && this.open !== undefined) this.close(t);
    if (mask & (1 << (s.lineStart - 1))) {
      if (this.open !== undefined) this.close(t);
      this.open = t;
    }
  }

  private close(t: number): void {
    const start = this.open!;
    this.open = undefined;
    if (!(t > start)) return;
    if (this.y >= this.s.ny) {
      this.droppedLines++;
      return;
    }
    this.lines.push({ start, stop: t, frame: this.frame, y: this.y });
    this.y++;
    if (this.s.frame === 0 && this.y === this.s.ny) {
      this.frame++;
      this.y = 0;
    }
  }
}

/** Converts `file` into the dataset folder `out` (created; must be empty). */
export function convertPtu(file: string, out: string, o: PtuConvertOptions): PtuConvertResult {
  checkOptions(o);
  if (existsSync(out) && readdirSync(out).length > 0) throw Object.assign(new Error(`--out ${out}: exists and is not empty`), { code: 'BAD_DATASET' });
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new PtuError(file, `cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const h = readPtuHeader(fd, size, file);
    const avail = size - h.dataOffset;
    if (avail < h.records * 4)
      throw new PtuError(file, `truncated: the header declares ${h.records} records (${h.records * 4} bytes), the file holds ${avail} bytes after the header (${Math.floor(avail / 4)} whole records)`);
    const t2 = h.layout.family.endsWith('t2');
    const hhT2 = h.layout.family === 'hydraharp-t2';

    // ---- pass 1: channels, last time, lines ----
    const perChannel = new Map<number, number>();
    let lastT = -Infinity;
    let markers = 0;
    let event = 0;
    const lines = o.scan ? new LineTracker(o.scan) : undefined;
    const order = (t: number): void => {
      if (t < lastT) throw new PtuError(file, `records out of time order at event ${event} (${t} ps after ${lastT} ps): corrupt file`);
      lastT = t;
      event++;
    };
    const pass1: EventSink = {
      photon(t, ch) {
        order(t);
        if (!(hhT2 && ch === SYNC_CHANNEL)) perChannel.set(ch, (perChannel.get(ch) ?? 0) + 1);
      },
      marker(t, mask) {
        order(t);
        markers++;
        lines?.marker(t, mask);
      },
    };
    const d1 = new RecordDecoder(h);
    forEachChunk(fd, h, (w) => d1.decode(w, pass1));

    const channels = o.channels ?? defaultChannels(perChannel, file);
    const [chA, chB] = channels;
    // T2 sync events are real events on input 0 of a HydraHarp-family tagger; allow them when named.
    const present = (c: number) => perChannel.has(c) || (hhT2 && c === SYNC_CHANNEL);
    for (const c of channels) if (!present(c)) throw new PtuError(file, `--channels: channel ${c} has no photons (channels with photons: ${[...perChannel.keys()].sort((a, b) => a - b).join(', ') || 'none'})`);

    // ---- geometry and windows ----
    const binWidthPs = (o.rangeNs * 1000) / o.bins;
    const zeroBin = Math.floor(o.bins / 2);
    let ny = 1;
    let nx = 1;
    let k: number;
    let integrationS: number;
    let windowOf: (t: number) => number;
    if (o.scan) {
      const ls = lines!.lines;
      if (ls.length === 0) throw new PtuError(file, `no scan lines: no line start (marker ${o.scan.lineStart}) followed by a line stop (marker ${o.scan.lineStop}) among ${markers} marker records`);
      ({ nx, ny } = o.scan);
      k = ls[ls.length - 1]!.frame + 1;
      const durations = ls.map((l) => l.stop - l.start).sort((a, b) => a - b);
      integrationS = durations[Math.floor(durations.length / 2)]! / nx / 1e12;
      let li = 0;
      windowOf = (t) => {
        while (li < ls.length && t >= ls[li]!.stop) li++;
        const l = ls[li];
        if (!l || t < l.start) return -1;
        const x = Math.min(nx - 1, Math.floor(((t - l.start) / (l.stop - l.start)) * nx));
        return (l.y * nx + x) * k + l.frame;
      };
    } else {
      const windowPs = o.windowS * 1e12;
      const durationPs = h.acquisitionS !== undefined ? h.acquisitionS * 1e12 : lastT;
      k = Math.floor(durationPs / windowPs);
      if (k < 1) throw new PtuError(file, `the recording (${(durationPs / 1e12).toPrecision(3)} s) is shorter than one --window-s window (${o.windowS} s)`);
      integrationS = o.windowS;
      windowOf = (t) => {
        const w = Math.floor(t / windowPs);
        return w < k ? w : -1;
      };
    }
    const cells = ny * nx * k * o.bins;
    if (cells > MAX_HISTOGRAM_CELLS) throw new PtuError(file, `the dataset would hold ${cells} histogram bins (${ny}×${nx}×${k}×${o.bins}), more than ${MAX_HISTOGRAM_CELLS}: use longer --window-s or fewer --bins`);

    // ---- pass 2: histograms ----
    const hist = new Uint32Array(cells);
    const counts = new Float64Array(ny * nx * k);
    const pairs = new PairHistogrammer(o.bins, binWidthPs, zeroBin);
    let cur = -1;
    let row = hist.subarray(0, o.bins);
    let photons = 0;
    const pass2: EventSink = {
      photon(t, ch) {
        if (ch !== chA && ch !== chB) return;
        const win = windowOf(t);
        if (win < 0) return;
        if (win !== cur) {
          cur = win;
          pairs.reset();
          row = hist.subarray(win * o.bins, (win + 1) * o.bins);
        }
        counts[win]!++;
        photons++;
        pairs.add(t, ch === chA, row);
      },
      marker() {},
    };
    const d2 = new RecordDecoder(h);
    forEachChunk(fd, h, (w) => d2.decode(w, pass2));
    let events = 0;
    for (let i = 0; i < hist.length; i++) events += hist[i]!;

    // ---- write the folder ----
    mkdirSync(out, { recursive: true });
    const files = ['histograms.npy', 'counts.npy', 'dwell_s.npy', 'manifest.json'];
    writeFileSync(join(out, 'histograms.npy'), encodeNpy(hist, [ny, nx, k, o.bins]));
    writeFileSync(join(out, 'counts.npy'), encodeNpy(counts, [ny, nx, k]));
    const dwell = new Float64Array(ny * nx);
    if (o.scan) {
      // A pixel has as many windows as frames that reached its line (the last frame may be partial).
      const reached = new Int32Array(ny);
      for (const l of lines!.lines) reached[l.y] = Math.max(reached[l.y]!, l.frame + 1);
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) dwell[y * nx + x] = reached[y]! * integrationS;
    } else dwell.fill(k * integrationS);
    writeFileSync(join(out, 'dwell_s.npy'), encodeNpy(dwell, [ny, nx]));
    const photonsPerChannel = Object.fromEntries([...perChannel.entries()].sort((a, b) => a[0] - b[0]).map(([c, n]) => [String(c), n]));
    const manifest = {
      kind: 'hbt-scan',
      version: 1,
      shape: [ny, nx],
      axes: [
        { name: 'y', unit: 'nm', start: 0, step: o.pixelSizeNm },
        { name: 'x', unit: 'nm', start: 0, step: o.pixelSizeNm },
      ],
      parameters: {
        bins: o.bins,
        binWidthNs: binWidthPs / 1000,
        zeroBin,
        jitterNs: 0,
        integrationS,
        pixelSizeNm: o.pixelSizeNm,
        source: {
          format: 'PicoQuant PTU',
          file: basename(file),
          recordType: h.layout.name,
          t2,
          channels: { start: chA, stop: chB },
          photonsPerChannel,
          ...(o.scan ? { scan: o.scan } : { windowS: o.windowS }),
        },
      },
    };
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    return {
      out,
      recordType: h.layout.name,
      records: h.records,
      overflows: d2.overflows.count,
      channels,
      photonsPerChannel,
      markers,
      shape: [ny, nx],
      k,
      integrationS,
      events,
      photons,
      droppedLines: lines?.droppedLines ?? 0,
      files,
    };
  } finally {
    closeSync(fd);
  }
}

function defaultChannels(perChannel: Map<number, number>, file: string): [number, number] {
  const cs = [...perChannel.keys()].sort((a, b) => a - b);
  if (cs.length < 2) throw new PtuError(file, `needs photons on two detector channels, found ${cs.length ? `only channel ${cs[0]}` : 'none'}`);
  return [cs[0]!, cs[1]!];
}

/** Checks the options, naming the CLI flag at fault. */
export function checkOptions(o: PtuConvertOptions): void {
  const posInt = (v: number, flag: string, max: number) => {
    if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`${flag}: must be an integer in 1…${max}, got ${v}`);
  };
  posInt(o.bins, '--bins', 1 << 16);
  if (o.bins < 3) throw new RangeError(`--bins: must be ≥ 3, got ${o.bins}`);
  if (!(o.rangeNs > 0 && o.rangeNs <= 1e9)) throw new RangeError(`--range-ns: must be in (0, 1e9], got ${o.rangeNs}`);
  if (!(o.windowS > 0 && o.windowS <= 1e6)) throw new RangeError(`--window-s: must be in (0, 1e6], got ${o.windowS}`);
  if (!(o.pixelSizeNm > 0)) throw new RangeError(`--pixel-size-nm: must be > 0, got ${o.pixelSizeNm}`);
  if (o.channels) {
    const [a, b] = o.channels;
    for (const c of o.channels) if (!Number.isInteger(c) || c < 0 || c > 64) throw new RangeError(`--channels: channel numbers are integers 0…64, got ${c}`);
    if (a === b) throw new RangeError(`--channels: start and stop channels must differ, got ${a},${b}`);
  }
  if (o.scan) {
    posInt(o.scan.nx, '--pixels (nx)', 1 << 14);
    posInt(o.scan.ny, '--pixels (ny)', 1 << 14);
    posInt(o.scan.lineStart, '--line-start-marker', 15);
    posInt(o.scan.lineStop, '--line-stop-marker', 15);
    if (!Number.isInteger(o.scan.frame) || o.scan.frame < 0 || o.scan.frame > 15) throw new RangeError(`--frame-marker: must be an integer in 0…15 (0: none), got ${o.scan.frame}`);
    if (o.scan.lineStart === o.scan.lineStop) throw new RangeError(`--line-start-marker and --line-stop-marker must differ, both ${o.scan.lineStart}`);
  }
}
