/**
 * One binary WebSocket message (decision 1700): a small JSON header and the
 * frame's payload bytes, the payload starting at a multiple of 8 so the
 * browser views it as a typed array in place (`new Float64Array(buf, off, n)`):
 *
 *   u32 LE  header length H
 *   H bytes header JSON (UTF-8): {k: 'frame', session, header} | {k: 'status', status} | {k: 'part', id, i, header}
 *   zero padding to the next multiple of 8
 *   payload bytes (little-endian, `header.dtype` × `header.shape`)
 */

/** Byte offset of the payload for a header of `h` bytes. */
export function payloadOffset(h: number): number {
  return Math.ceil((4 + h) / 8) * 8;
}

export function encodeMessage(meta: unknown, payload?: ArrayBufferView): Buffer {
  const head = Buffer.from(JSON.stringify(meta), 'utf8');
  const off = payloadOffset(head.length);
  const n = payload?.byteLength ?? 0;
  const out = Buffer.alloc(off + n);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  if (payload && n) out.set(new Uint8Array(payload.buffer, payload.byteOffset, n), off);
  return out;
}

/** The inverse (tests and Node clients; the page has its own copy in page/conn.js). */
export function decodeMessage(buf: Uint8Array): { meta: Record<string, unknown>; payload: Uint8Array } {
  if (buf.byteLength < 4) throw new RangeError(`message: ${buf.byteLength} bytes, too short for a header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const h = view.getUint32(0, true);
  if (4 + h > buf.byteLength) throw new RangeError(`message: header of ${h} bytes exceeds the message (${buf.byteLength} bytes)`);
  const meta = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 4, h).toString('utf8')) as Record<string, unknown>;
  return { meta, payload: buf.subarray(Math.min(payloadOffset(h), buf.byteLength)) };
}
