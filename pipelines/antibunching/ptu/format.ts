/**
 * PicoQuant PTU files (time-tagged TTTR recordings), as described by
 * PicoQuant's public demo readers: a tagged header, then 32-bit little-endian
 * records of one of six families.
 *
 * Header: magic `PQTTTR\0\0` (8 bytes), version (8 bytes), then tags of
 * 48 bytes — ident (32 bytes, NUL padded), index (i32), type (u32), value
 * (8 bytes: int64, float64, or the byte length of the data that follows for
 * strings, arrays and blobs) — up to the tag `Header_End`.
 *
 * Records (u32, little-endian):
 * - PicoHarp T3: channel(4) dtime(12) nsync(16). Channel 15 is special: the
 *   low 4 bits of dtime are markers; markers 0 is an overflow (+65536 syncs).
 * - PicoHarp T2: channel(4) time(28). Channel 15: time's low 4 bits are
 *   markers, 0 is an overflow (+210698240 ticks).
 * - HydraHarp/MultiHarp/TimeHarp260 T3: special(1) channel(6) dtime(15)
 *   nsync(10). Special with channel 63 is an overflow: +1024 syncs (v1), or
 *   +1024·nsync (v2, nsync 0 counting as 1); special with channel 1–15 is a
 *   marker (channel = marker bits).
 * - HydraHarp/MultiHarp/TimeHarp260 T2: special(1) channel(6) time(25).
 *   Special channel 63 is an overflow: +33552000 ticks (v1), or +33554432·time
 *   (v2, time 0 counting as 1); channel 0 is a sync-input event; 1–15 markers.
 *
 * Times are returned in picoseconds (float64; exact integers for integer-ps
 * resolutions up to 2^53 ps ≈ 2.5 h). T2: ticks × global resolution. T3:
 * nsync × sync period (global resolution) + dtime × resolution; markers in
 * T3 carry the sync time only.
 *
 * Channel numbers are those PicoQuant's readers print: PicoHarp T2 0–3,
 * PicoHarp T3 1–4, HydraHarp family 1–64 (record field + 1). The
 * HydraHarp-family T2 sync input is reported as channel 0 (`SYNC_CHANNEL`).
 */

export class PtuError extends Error {
  readonly code = 'BAD_DATASET';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'PtuError';
  }
}

export const TAG = {
  empty8: 0xffff0008,
  bool8: 0x00000008,
  int8: 0x10000008,
  bitSet64: 0x11000008,
  color8: 0x12000008,
  float8: 0x20000008,
  dateTime: 0x21000008,
  float8Array: 0x2001ffff,
  ansiString: 0x4001ffff,
  wideString: 0x4002ffff,
  binaryBlob: 0xffffffff,
} as const;

/** `TTResultFormat_TTTRRecType` values. */
export const REC_TYPE = {
  picoHarpT3: 0x00010303,
  picoHarpT2: 0x00010203,
  hydraHarpT3: 0x00010304,
  hydraHarpT2: 0x00010204,
  hydraHarp2T3: 0x01010304,
  hydraHarp2T2: 0x01010204,
  timeHarp260NT3: 0x00010305,
  timeHarp260NT2: 0x00010205,
  timeHarp260PT3: 0x00010306,
  timeHarp260PT2: 0x00010206,
  multiHarpT3: 0x00010307,
  multiHarpT2: 0x00010207,
} as const;

export type RecordFamily = 'picoharp-t2' | 'picoharp-t3' | 'hydraharp-t2' | 'hydraharp-t3';

export interface RecordLayout {
  family: RecordFamily;
  /** HydraHarp v1 overflow rule (fixed increments) vs v2 (count of overflows). */
  version: 1 | 2;
  name: string;
}

export const LAYOUTS: ReadonlyMap<number, RecordLayout> = new Map([
  [REC_TYPE.picoHarpT3, { family: 'picoharp-t3', version: 1, name: 'PicoHarp T3' }],
  [REC_TYPE.picoHarpT2, { family: 'picoharp-t2', version: 1, name: 'PicoHarp T2' }],
  [REC_TYPE.hydraHarpT3, { family: 'hydraharp-t3', version: 1, name: 'HydraHarp v1 T3' }],
  [REC_TYPE.hydraHarpT2, { family: 'hydraharp-t2', version: 1, name: 'HydraHarp v1 T2' }],
  [REC_TYPE.hydraHarp2T3, { family: 'hydraharp-t3', version: 2, name: 'HydraHarp v2 T3' }],
  [REC_TYPE.hydraHarp2T2, { family: 'hydraharp-t2', version: 2, name: 'HydraHarp v2 T2' }],
  [REC_TYPE.timeHarp260NT3, { family: 'hydraharp-t3', version: 2, name: 'TimeHarp 260 N T3' }],
  [REC_TYPE.timeHarp260NT2, { family: 'hydraharp-t2', version: 2, name: 'TimeHarp 260 N T2' }],
  [REC_TYPE.timeHarp260PT3, { family: 'hydraharp-t3', version: 2, name: 'TimeHarp 260 P T3' }],
  [REC_TYPE.timeHarp260PT2, { family: 'hydraharp-t2', version: 2, name: 'TimeHarp 260 P T2' }],
  [REC_TYPE.multiHarpT3, { family: 'hydraharp-t3', version: 2, name: 'MultiHarp T3' }],
  [REC_TYPE.multiHarpT2, { family: 'hydraharp-t2', version: 2, name: 'MultiHarp T2' }],
]);

export const SYNC_CHANNEL = 0;
export const PH_T3_WRAP = 65536;
export const PH_T2_WRAP = 210698240;
export const HH_T3_WRAP = 1024;
export const HH_T2_WRAP_V1 = 33552000;
export const HH_T2_WRAP_V2 = 33554432;

export type TagValue = number | boolean | string | number[] | Uint8Array;

export interface PtuHeader {
  version: string;
  /** Tags by ident; indexed tags (index ≥ 0) as `ident[index]`. */
  tags: Record<string, TagValue>;
  recType: number;
  layout: RecordLayout;
  /** Records the header declares. */
  records: number;
  /** Byte offset of the first record. */
  dataOffset: number;
  /** T2: tick (ps); T3: sync period (ps). */
  globalResolutionPs: number;
  /** T3: dtime unit (ps). */
  resolutionPs: number;
  /** Acquisition time from `MeasDesc_AcquisitionTime`, s (undefined when absent). */
  acquisitionS: number | undefined;
}

const MAGIC = 'PQTTTR';
const MAX_TAGS = 100_000;
const MAX_TAG_BYTES = 64 << 20;

/**
 * Parses the header from `buf` (the file's first bytes; pass more when it
 * asks). Throws PtuError for a foreign or truncated header, or a record type
 * this reader does not decode.
 */
export function parseHeader(buf: Uint8Array, file: string): PtuHeader {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const ascii = (off: number, len: number): string => {
    const s = Buffer.from(buf.buffer, buf.byteOffset + off, len).toString('latin1');
    const nul = s.indexOf('\0');
    return nul >= 0 ? s.slice(0, nul) : s;
  };
  if (buf.byteLength < 16) throw new PtuError(file, `not a PicoQuant PTU file: ${buf.byteLength} bytes, shorter than its 16-byte preamble`);
  const magic = ascii(0, 8);
  if (magic !== MAGIC) {
    if (magic === 'PQHISTO') throw new PtuError(file, 'is a PicoQuant histogram file (PHU, magic PQHISTO), not a T2/T3 record file (PTU)');
    throw new PtuError(file, `not a PicoQuant PTU file (magic ${JSON.stringify(magic.replace(/[^\x20-\x7e]/g, '?'))}, expected "PQTTTR")`);
  }
  const version = ascii(8, 8);
  const tags: Record<string, TagValue> = {};
  let off = 16;
  for (let n = 0; ; n++) {
    if (n >= MAX_TAGS) throw new PtuError(file, `header: more than ${MAX_TAGS} tags without Header_End`);
    if (off + 48 > buf.byteLength) throw new PtuError(file, `truncated header: tag ${n} at byte ${off} needs 48 bytes, the file has ${buf.byteLength - off}`);
    const ident = ascii(off, 32);
    const idx = view.getInt32(off + 32, true);
    const type = view.getUint32(off + 36, true);
    const key = idx >= 0 ? `${ident}[${idx}]` : ident;
    off += 48;
    const v = off - 8;
    let value: TagValue;
    switch (type) {
      case TAG.empty8:
        value = '';
        break;
      case TAG.bool8:
        value = view.getBigInt64(v, true) !== 0n;
        break;
      case TAG.int8:
      case TAG.bitSet64:
      case TAG.color8:
        value = Number(view.getBigInt64(v, true));
        break;
      case TAG.float8:
      case TAG.dateTime:
        value = view.getFloat64(v, true);
        break;
      case TAG.float8Array:
      case TAG.ansiString:
      case TAG.wideString:
      case TAG.binaryBlob: {
        const len = Number(view.getBigInt64(v, true));
        if (!(len >= 0 && len <= MAX_TAG_BYTES)) throw new PtuError(file, `header: tag ${ident} declares ${len} bytes of data (allowed 0…${MAX_TAG_BYTES})`);
        if (off + len > buf.byteLength) throw new PtuError(file, `truncated header: tag ${ident} needs ${len} bytes at byte ${off}, the file has ${buf.byteLength - off}`);
        const data = buf.subarray(off, off + len);
        if (type === TAG.ansiString) value = ascii(off, len);
        else if (type === TAG.wideString) value = Buffer.from(data).toString('utf16le').replace(/\0.*$/s, '');
        else if (type === TAG.float8Array) value = Array.from({ length: Math.floor(len / 8) }, (_, i) => view.getFloat64(off + 8 * i, true));
        else value = data;
        off += len;
        break;
      }
      default:
        throw new PtuError(file, `header: tag ${ident} has unknown type 0x${type.toString(16).padStart(8, '0')}`);
    }
    if (ident === 'Header_End') break;
    tags[key] = value;
  }
  const num = (key: string): number => {
    const x = tags[key];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new PtuError(file, `header: tag ${key} missing or not a number`);
    return x;
  };
  const recType = num('TTResultFormat_TTTRRecType');
  const layout = LAYOUTS.get(recType);
  if (!layout) throw new PtuError(file, `unsupported record type 0x${recType.toString(16).padStart(8, '0')} (supported: ${[...LAYOUTS.values()].map((l) => l.name).join(', ')})`);
  const records = num('TTResult_NumberOfRecords');
  if (!(Number.isInteger(records) && records >= 0)) throw new PtuError(file, `header: TTResult_NumberOfRecords must be an integer ≥ 0, got ${records}`);
  const globalResolutionPs = num('MeasDesc_GlobalResolution') * 1e12;
  if (!(globalResolutionPs > 0)) throw new PtuError(file, `header: MeasDesc_GlobalResolution must be > 0`);
  const t3 = layout.family.endsWith('t3');
  const resolutionPs = t3 ? num('MeasDesc_Resolution') * 1e12 : globalResolutionPs;
  if (!(resolutionPs > 0)) throw new PtuError(file, `header: MeasDesc_Resolution must be > 0`);
  const acq = tags['MeasDesc_AcquisitionTime'];
  return {
    version,
    tags,
    recType,
    layout,
    records,
    dataOffset: off,
    globalResolutionPs: roundPs(globalResolutionPs),
    resolutionPs: roundPs(resolutionPs),
    acquisitionS: typeof acq === 'number' && acq > 0 ? acq / 1000 : undefined,
  };
}

/** 1e-12 × 1e12 is not exactly 1: resolutions are whole or decimal ps, so round to 1e-6 ps. */
function roundPs(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Where decoded events go. Times in ps. */
export interface EventSink {
  photon(tPs: number, channel: number): void;
  marker(tPs: number, mask: number): void;
}

/**
 * Decodes records incrementally: feed consecutive chunks of whole records to
 * `decode`; the overflow correction carries across chunks.
 */
export class RecordDecoder {
  private ofl = 0;
  readonly overflows = { count: 0 };
  constructor(readonly header: PtuHeader) {}

  decode(words: Uint32Array, sink: EventSink): void {
    const { family, version } = this.header.layout;
    const g = this.header.globalResolutionPs;
    const r = this.header.resolutionPs;
    let ofl = this.ofl;
    const n = words.length;
    switch (family) {
      case 'picoharp-t3':
        for (let i = 0; i < n; i++) {
          const w = words[i]!;
          const ch = w >>> 28;
          const dtime = (w >>> 16) & 0xfff;
          const nsync = w & 0xffff;
          if (ch === 0xf) {
            const markers = dtime & 0xf;
            if (markers === 0) {
              ofl += PH_T3_WRAP;
              this.overflows.count++;
            } else sink.marker((ofl + nsync) * g, markers);
          } else sink.photon((ofl + nsync) * g + dtime * r, ch);
        }
        break;
      case 'picoharp-t2':
        for (let i = 0; i < n; i++) {
          const w = words[i]!;
          const ch = w >>> 28;
          const time = w & 0x0fffffff;
          if (ch === 0xf) {
            const markers = time & 0xf;
            if (markers === 0) {
              ofl += PH_T2_WRAP;
              this.overflows.count++;
            } else sink.marker((ofl + time) * g, markers);
          } else sink.photon((ofl + time) * g, ch);
        }
        break;
      case 'hydraharp-t3':
        for (let i = 0; i < n; i++) {
          const w = words[i]!;
          const special = w >>> 31;
          const ch = (w >>> 25) & 0x3f;
          const dtime = (w >>> 10) & 0x7fff;
          const nsync = w & 0x3ff;
          if (special) {
            if (ch === 0x3f) {
              const k = version === 1 || nsync === 0 ? 1 : nsync;
              ofl += HH_T3_WRAP * k;
              this.overflows.count += k;
            } else if (ch >= 1 && ch <= 15) sink.marker((ofl + nsync) * g, ch);
          } else sink.photon((ofl + nsync) * g + dtime * r, ch + 1);
        }
        break;
      case 'hydraharp-t2':
        for (let i = 0; i < n; i++) {
          const w = words[i]!;
          const special = w >>> 31;
          const ch = (w >>> 25) & 0x3f;
          const time = w & 0x1ffffff;
          if (special) {
            if (ch === 0x3f) {
              if (version === 1) {
                ofl += HH_T2_WRAP_V1;
                this.overflows.count++;
              } else {
                const k = time === 0 ? 1 : time;
                ofl += HH_T2_WRAP_V2 * k;
                this.overflows.count += k;
              }
            } else if (ch === 0) sink.photon((ofl + time) * g, SYNC_CHANNEL);
            else if (ch <= 15) sink.marker((ofl + time) * g, ch);
          } else sink.photon((ofl + time) * g, ch + 1);
        }
        break;
    }
    this.ofl = ofl;
  }
}
