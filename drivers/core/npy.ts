/**
 * NumPy `.npy` files, versions 1.0 and 2.0 (3.0 read too): the dataset format
 * of DESIGN.md. Written C-ordered and little-endian with the header padded to
 * a multiple of 64 bytes as NumPy does; read with every header field checked
 * against the data actually present, so a file whose header lies is refused
 * with the numbers rather than misread.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { PAYLOAD_CTOR, dtypeOf, type Dtype, type Payload } from './frame.js';

export interface NpyArray {
  dtype: Dtype;
  /** C-order shape. */
  shape: number[];
  data: Payload;
}

export class NpyError extends Error {
  override readonly name = 'NpyError';
  readonly code = 'BAD_NPY';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

const DESCR_OF: Record<Dtype, string> = { f64: '<f8', f32: '<f4', i32: '<i4', u32: '<u4', i16: '<i2', u16: '<u2', u8: '|u1', i8: '|i1' };

/** descr (kind + size, any byte order) → dtype. */
const DTYPE_OF_DESCR: Record<string, Dtype> = { f8: 'f64', f4: 'f32', i4: 'i32', u4: 'u32', i2: 'i16', u2: 'u16', u1: 'u8', i1: 'i8', b1: 'u8' };

const SIZE: Record<Dtype, number> = { f64: 8, f32: 4, i32: 4, u32: 4, i16: 2, u16: 2, u8: 1, i8: 1 };

/** Encodes an array as .npy bytes (v1.0, or v2.0 when the header needs it). */
export function encodeNpy(data: Payload, shape: number[] = [data.length]): Buffer {
  const n = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new RangeError(`shape: [${shape.join(', ')}] must hold non-negative integers`);
  if (n !== data.length) throw new RangeError(`shape: [${shape.join(', ')}] holds ${n} values but the data has ${data.length}`);
  const dtype = dtypeOf(data);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DESCR_OF[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let prefix = 10;
  if (dict.length + 1 + prefix > 65535) {
    version = 2;
    prefix = 12;
  }
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - prefix - dict.length - 1) + '\n';
  const out = Buffer.alloc(total + data.byteLength);
  MAGIC.copy(out, 0);
  out[6] = version;
  out[7] = 0;
  if (version === 1) out.writeUInt16LE(header.length, 8);
  else out.writeUInt32LE(header.length, 8);
  out.write(header, prefix, 'latin1');
  // Typed arrays are little-endian on every platform Node runs on here.
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, total);
  return out;
}

/** Decodes .npy bytes; `file` names the source in errors. */
export function decodeNpy(buf: Uint8Array, file = '<npy>'): NpyArray {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const { prefix, hlen } = checkPreamble(b, b.length, file);
  const h = headerOf(b, prefix, hlen, file);
  const dataBytes = b.length - prefix - hlen;
  checkDataBytes(h, dataBytes, file);
  const copy = Buffer.alloc(dataBytes);
  b.copy(copy, 0, prefix + hlen);
  return finish(h, copy);
}

interface ParsedHeader extends Header {
  dtype: Dtype;
  /** Byte-order character of descr. */
  order: string;
  n: number;
  itemsize: number;
}

/** Magic, version and header length from the first ≤ 12 bytes; `size` is the whole file's. */
function checkPreamble(b: Buffer, size: number, file: string): { prefix: number; hlen: number } {
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) throw new NpyError(file, 'not an NPY file (bad magic string)');
  const major = b[6]!;
  const minor = b[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) throw new NpyError(file, `unsupported NPY version ${major}.${minor} (this reads 1.0, 2.0, 3.0)`);
  const prefix = major === 1 ? 10 : 12;
  if (b.length < prefix) throw new NpyError(file, 'truncated header');
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  if (prefix + hlen > size) throw new NpyError(file, `header length ${hlen} runs past the end of the file (${size} bytes)`);
  return { prefix, hlen };
}

function headerOf(b: Buffer, prefix: number, hlen: number, file: string): ParsedHeader {
  const text = b.toString(b[6] === 3 ? 'utf8' : 'latin1', prefix, prefix + hlen);
  const header = parseHeader(text, file);
  const descr = header.descr;
  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const dtype = m ? DTYPE_OF_DESCR[`${m[2]}${m[3]}`] : undefined;
  if (!m || !dtype) throw new NpyError(file, `dtype '${descr.slice(0, 20)}' is not supported (supported: ${Object.values(DESCR_OF).join(', ')}, any byte order)`);
  // The element count as a float: a lying shape may overflow 2^53, and is then refused below.
  const n = header.shape.reduce((a, c) => a * c, 1);
  return { ...header, dtype, order: m[1]!, n, itemsize: SIZE[dtype] };
}

/** The data must be exactly what the header promises, checked before anything is read or allocated. */
function checkDataBytes(h: ParsedHeader, dataBytes: number, file: string): void {
  if (!Number.isSafeInteger(h.n) || h.n * h.itemsize !== dataBytes) {
    throw new NpyError(file, `header says shape (${h.shape.join(', ')}) of ${h.descr} = ${h.n * h.itemsize} bytes of data, but the file holds ${dataBytes}`);
  }
}

function finish(h: ParsedHeader, bytes: Buffer): NpyArray {
  // A fresh buffer of exactly the data (readAt / decodeNpy allocate one), so the typed array owns its memory.
  const copy = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (h.order === '>' && h.itemsize > 1) swapBytes(copy, h.itemsize);
  // Buffer.alloc never hands out pooled memory: offset 0, aligned for every dtype.
  let data: Payload = new PAYLOAD_CTOR[h.dtype](copy.buffer as ArrayBuffer, copy.byteOffset, h.n);
  if (h.fortran_order && h.shape.length > 1) data = fortranToC(data, h.shape);
  return { dtype: h.dtype, shape: h.shape, data };
}

/** Largest NPY header read (NumPy itself refuses headers over 10 000 bytes by default). */
export const MAX_NPY_HEADER_BYTES = 1 << 20;

/**
 * Reads a `.npy` file. Only a regular file is read (a device, FIFO or socket is refused before any read, and
 * opening never blocks); the header is read and checked first, and the data is read only when its size is
 * exactly what the header promises — so nothing is allocated beyond the bytes actually present.
 * `maxBytes` bounds the file size (default: no bound beyond the file's own size).
 */
export function readNpy(path: string, opts: { maxBytes?: number } = {}): NpyArray {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new NpyError(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NpyError(path, 'not a regular file (a device, FIFO, socket or folder is never read)');
    const size = st.size;
    if (opts.maxBytes !== undefined && size > opts.maxBytes) throw new NpyError(path, `${size} bytes exceeds the limit of ${opts.maxBytes} bytes`);
    const readAt = (n: number, pos: number): Buffer => {
      const b = Buffer.alloc(n);
      let got = 0;
      while (got < n) {
        const k = readSync(fd, b, got, n - got, pos + got);
        if (k === 0) break;
        got += k;
      }
      if (got !== n) throw new NpyError(path, `file shrank while being read (${pos + got} of ${pos + n} bytes)`);
      return b;
    };
    const pre = readAt(Math.min(12, size), 0);
    const { prefix, hlen } = checkPreamble(pre, size, path);
    if (hlen > MAX_NPY_HEADER_BYTES) throw new NpyError(path, `header of ${hlen} bytes exceeds the limit of ${MAX_NPY_HEADER_BYTES}`);
    const head = readAt(prefix + hlen, 0);
    const h = headerOf(head, prefix, hlen, path);
    const dataBytes = size - prefix - hlen;
    checkDataBytes(h, dataBytes, path);
    return finish(h, readAt(dataBytes, prefix + hlen));
  } finally {
    closeSync(fd);
  }
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

function fortranToC(data: Payload, shape: number[]): Payload {
  const out = new (data.constructor as new (n: number) => Payload)(data.length);
  const nd = shape.length;
  const fStride = new Array<number>(nd);
  const cStride = new Array<number>(nd);
  fStride[0] = 1;
  for (let k = 1; k < nd; k++) fStride[k] = fStride[k - 1]! * shape[k - 1]!;
  cStride[nd - 1] = 1;
  for (let k = nd - 2; k >= 0; k--) cStride[k] = cStride[k + 1]! * shape[k + 1]!;
  const idx = new Array<number>(nd).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let k = 0; k < nd; k++) f += idx[k]! * fStride[k]!;
    out[c] = data[f]!;
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

interface Header {
  descr: string;
  fortran_order: boolean;
  shape: number[];
}

/** Parses the Python dict literal of an NPY header (strings, True/False, tuples of ints). */
function parseHeader(text: string, file: string): Header {
  let i = 0;
  const fail = (msg: string): never => {
    // Position only: an error never quotes the file's contents (it may not be the file the user meant).
    throw new NpyError(file, `bad header: ${msg} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) fail(`expected '${c}'`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') fail('expected a string');
    const end = text.indexOf(q!, i + 1);
    if (end < 0) fail('unterminated string');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') return str();
    if (text.startsWith('True', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('False', i)) {
      i += 5;
      return false;
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items: number[] = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          return items;
        }
        const m = /^\d+L?/.exec(text.slice(i));
        if (!m) fail('expected a non-negative integer in the shape');
        items.push(Number.parseInt(m![0], 10));
        i += m![0].length;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    return fail('unsupported value');
  };
  expect('{');
  const out: Record<string, unknown> = {};
  for (;;) {
    ws();
    if (text[i] === '}') {
      i++;
      break;
    }
    const k = str();
    expect(':');
    out[k] = value();
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail("expected ',' or '}'");
  }
  if (text.slice(i).trim() !== '') fail('trailing characters after the dictionary');
  const keys = Object.keys(out).sort().join(',');
  if (keys !== 'descr,fortran_order,shape') throw new NpyError(file, `bad header: keys must be exactly descr, fortran_order, shape (got ${Object.keys(out).length} key${Object.keys(out).length === 1 ? '' : 's'})`);
  if (typeof out.descr !== 'string') throw new NpyError(file, 'bad header: descr must be a string (structured dtypes are not supported)');
  if (typeof out.fortran_order !== 'boolean') throw new NpyError(file, 'bad header: fortran_order must be True or False');
  const shape = out.shape as number[];
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d))) throw new NpyError(file, 'bad header: shape must be a tuple of integers');
  return { descr: out.descr, fortran_order: out.fortran_order, shape };
}
