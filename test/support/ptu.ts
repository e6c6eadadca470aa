/**
 * Writes PicoQuant PTU files byte by byte from the format description (the
 * tests' own encoder, independent of pipelines/antibunching/ptu/format.ts):
 * a tagged header and records of the four families, with overflow records
 * inserted wherever the time field would wrap, and the events a reader must
 * report for them.
 */
export type Family = 'picoharp-t2' | 'picoharp-t3' | 'hydraharp-t2' | 'hydraharp-t3';

export const REC_TYPES: Record<string, { type: number; family: Family; version: 1 | 2 }> = {
  'PicoHarp T2': { type: 0x00010203, family: 'picoharp-t2', version: 1 },
  'PicoHarp T3': { type: 0x00010303, family: 'picoharp-t3', version: 1 },
  'HydraHarp v1 T2': { type: 0x00010204, family: 'hydraharp-t2', version: 1 },
  'HydraHarp v1 T3': { type: 0x00010304, family: 'hydraharp-t3', version: 1 },
  'HydraHarp v2 T2': { type: 0x01010204, family: 'hydraharp-t2', version: 2 },
  'HydraHarp v2 T3': { type: 0x01010304, family: 'hydraharp-t3', version: 2 },
  'MultiHarp T2': { type: 0x00010207, family: 'hydraharp-t2', version: 2 },
  'MultiHarp T3': { type: 0x00010307, family: 'hydraharp-t3', version: 2 },
  'TimeHarp 260 P T3': { type: 0x00010306, family: 'hydraharp-t3', version: 2 },
};

/** An event to encode. T2: `ticks` of the global resolution. T3: `nsync` (+ `dtime` for photons). */
export interface InEvent {
  kind: 'photon' | 'marker';
  /** Photon: channel as readers print it (PH T2 0–3, PH T3 1–4, HH 1–64, HH T2 sync 0). Marker: the marker mask. */
  ch: number;
  ticks?: number;
  nsync?: number;
  dtime?: number;
}

export interface OutEvent {
  kind: 'photon' | 'marker';
  ch: number;
  tPs: number;
}

type Tag = { ident: string; idx?: number; type: number; value: number | string | number[] | Uint8Array };

const T = { empty8: 0xffff0008, int8: 0x10000008, float8: 0x20000008, bool8: 0x00000008, ansi: 0x4001ffff, wide: 0x4002ffff, f8arr: 0x2001ffff, blob: 0xffffffff } as const;

export function header(tags: Tag[], magic = 'PQTTTR', version = '1.0.00'): Buffer {
  const parts: Buffer[] = [];
  const pre = Buffer.alloc(16);
  pre.write(magic, 0, 'latin1');
  pre.write(version, 8, 'latin1');
  parts.push(pre);
  for (const t of [...tags, { ident: 'Header_End', type: T.empty8, value: 0 }]) {
    const b = Buffer.alloc(48);
    b.write(t.ident, 0, 'latin1');
    b.writeInt32LE(t.idx ?? -1, 32);
    b.writeUInt32LE(t.type, 36);
    let extra: Buffer | undefined;
    if (t.type === T.ansi) extra = Buffer.from(String(t.value) + '\0\0\0\0\0\0\0\0'.slice(0, 8 - (String(t.value).length % 8)), 'latin1');
    else if (t.type === T.wide) extra = Buffer.from(String(t.value) + '\0', 'utf16le');
    else if (t.type === T.f8arr) extra = Buffer.from(new Float64Array(t.value as number[]).buffer);
    else if (t.type === T.blob) extra = Buffer.from(t.value as Uint8Array);
    else if (t.type === T.float8) b.writeDoubleLE(Number(t.value), 40);
    else b.writeBigInt64LE(BigInt(t.value as number), 40);
    if (extra) b.writeBigInt64LE(BigInt(extra.length), 40);
    parts.push(b);
    if (extra) parts.push(extra);
  }
  return Buffer.concat(parts);
}

export interface PtuSpec {
  rec: keyof typeof REC_TYPES;
  /** T2 tick or T3 sync period, s. */
  globalResolution: number;
  /** T3 dtime unit, s. */
  resolution?: number;
  acquisitionMs?: number;
  events: InEvent[];
  /** Declared record count (default: the real one) — to write truncated files. */
  declareRecords?: number;
}

/** Encodes events (time-ordered) into records, inserting overflows; returns the records and what a reader must decode. */
export function encode(spec: PtuSpec): { records: Uint32Array; expected: OutEvent[] } {
  const { family, version } = REC_TYPES[spec.rec]!;
  const g = Math.round(spec.globalResolution * 1e12 * 1e6) / 1e6;
  const r = Math.round((spec.resolution ?? spec.globalResolution) * 1e12 * 1e6) / 1e6;
  const out: number[] = [];
  const expected: OutEvent[] = [];
  let ofl = 0;
  for (const e of spec.events) {
    if (family === 'picoharp-t3') {
      const ns = e.nsync!;
      while (ns - ofl >= 65536) {
        out.push((0xf << 28) >>> 0);
        ofl += 65536;
      }
      if (e.kind === 'photon') {
        out.push(((e.ch << 28) | (e.dtime! << 16) | (ns - ofl)) >>> 0);
        expected.push({ kind: 'photon', ch: e.ch, tPs: ns * g + e.dtime! * r });
      } else {
        out.push(((0xf << 28) | (e.ch << 16) | (ns - ofl)) >>> 0);
        expected.push({ kind: 'marker', ch: e.ch, tPs: ns * g });
      }
    } else if (family === 'picoharp-t2') {
      const tk = e.ticks!;
      while (tk - ofl >= 210698240) {
        out.push((0xf << 28) >>> 0);
        ofl += 210698240;
      }
      if (e.kind === 'photon') {
        out.push(((e.ch << 28) | (tk - ofl)) >>> 0);
        expected.push({ kind: 'photon', ch: e.ch, tPs: tk * g });
      } else {
        // The marker bits take the time field's low 4 bits.
        const field = ((tk - ofl) & ~0xf) | e.ch;
        out.push(((0xf << 28) | field) >>> 0);
        expected.push({ kind: 'marker', ch: e.ch, tPs: (ofl + field) * g });
      }
    } else if (family === 'hydraharp-t3') {
      const ns = e.nsync!;
      while (ns - ofl >= 1024) {
        const n = version === 1 ? 1 : Math.min(1023, Math.floor((ns - ofl) / 1024));
        out.push(((1 << 31) | (63 << 25) | (version === 1 ? 0 : n)) >>> 0);
        ofl += 1024 * n;
      }
      if (e.kind === 'photon') {
        out.push((((e.ch - 1) << 25) | (e.dtime! << 10) | (ns - ofl)) >>> 0);
        expected.push({ kind: 'photon', ch: e.ch, tPs: ns * g + e.dtime! * r });
      } else {
        out.push(((1 << 31) | (e.ch << 25) | (ns - ofl)) >>> 0);
        expected.push({ kind: 'marker', ch: e.ch, tPs: ns * g });
      }
    } else {
      const tk = e.ticks!;
      const wrap = version === 1 ? 33552000 : 33554432;
      while (tk - ofl >= wrap) {
        const n = version === 1 ? 1 : Math.min(wrap - 1, Math.floor((tk - ofl) / wrap));
        out.push(((1 << 31) | (63 << 25) | (version === 1 ? 0 : n)) >>> 0);
        ofl += wrap * n;
      }
      if (e.kind === 'photon' && e.ch === 0) out.push(((1 << 31) | (tk - ofl)) >>> 0);
      else if (e.kind === 'photon') out.push((((e.ch - 1) << 25) | (tk - ofl)) >>> 0);
      else out.push(((1 << 31) | (e.ch << 25) | (tk - ofl)) >>> 0);
      expected.push({ kind: e.kind, ch: e.ch, tPs: tk * g });
    }
  }
  return { records: Uint32Array.from(out), expected };
}

/** A whole PTU file for `spec`, with a header that exercises every tag type. */
export function ptuFile(spec: PtuSpec): { bytes: Buffer; expected: OutEvent[]; records: Uint32Array } {
  const { records, expected } = encode(spec);
  const { type } = REC_TYPES[spec.rec]!;
  const h = header([
    { ident: 'File_GUID', type: T.ansi, value: '{4f5e1a2b-qscope-test}' },
    { ident: 'File_Comment', type: T.wide, value: 'synthesised by qscope tests' },
    { ident: 'Measurement_Mode', type: T.int8, value: REC_TYPES[spec.rec]!.family.endsWith('t2') ? 2 : 3 },
    { ident: 'HW_InpChan_CFDLevel', idx: 0, type: T.int8, value: 100 },
    { ident: 'HW_InpChan_CFDLevel', idx: 1, type: T.int8, value: 110 },
    { ident: 'HWSync_Divider', type: T.bool8, value: 1 },
    { ident: 'UsrHeadName', type: T.f8arr, value: [1.5, 2.5] },
    { ident: 'ImgHdr_Blob', type: T.blob, value: new Uint8Array([1, 2, 3]) },
    { ident: 'TTResultFormat_TTTRRecType', type: T.int8, value: type },
    { ident: 'TTResult_NumberOfRecords', type: T.int8, value: spec.declareRecords ?? records.length },
    { ident: 'MeasDesc_GlobalResolution', type: T.float8, value: spec.globalResolution },
    { ident: 'MeasDesc_Resolution', type: T.float8, value: spec.resolution ?? spec.globalResolution },
    ...(spec.acquisitionMs !== undefined ? [{ ident: 'MeasDesc_AcquisitionTime', type: T.int8, value: spec.acquisitionMs }] : []),
  ]);
  return { bytes: Buffer.concat([h, Buffer.from(records.buffer, records.byteOffset, records.byteLength)]), expected, records };
}
