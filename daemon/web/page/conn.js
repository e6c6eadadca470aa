// The page's one WebSocket to the daemon: control requests (the ZeroMQ API's methods and JSON), live binary
// frames (daemon/web/codec.ts: u32 header length, header JSON, padding to 8, payload), acknowledgements.

const DTYPES = { f64: Float64Array, f32: Float32Array, i32: Int32Array, u32: Uint32Array, i16: Int16Array, u16: Uint16Array, u8: Uint8Array, i8: Int8Array };
const utf8 = new TextDecoder();

/** Decodes one binary message into {meta, payload} with the payload a typed array viewing the message in place. */
export function decode(buf) {
  const view = new DataView(buf);
  const h = view.getUint32(0, true);
  const meta = JSON.parse(utf8.decode(new Uint8Array(buf, 4, h)));
  const off = Math.ceil((4 + h) / 8) * 8;
  const header = meta.header;
  let payload = null;
  if (header && off <= buf.byteLength) {
    const Ctor = DTYPES[header.dtype] ?? Uint8Array;
    payload = new Ctor(buf, off, (buf.byteLength - off) / Ctor.BYTES_PER_ELEMENT);
  }
  return { meta, payload };
}

export class Connection {
  /** @param {{onFrame, onStatus, onStats, onState, onCall}} handlers */
  constructor(handlers) {
    this.h = handlers;
    this.nextId = 1;
    this.waiting = new Map();
    this.received = 0;
    this.ackQueued = false;
    this.connect();
  }

  connect() {
    const ws = new WebSocket(`ws://${location.host}/ws`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.opened = new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
    ws.addEventListener('open', () => this.h.onState?.('open'));
    ws.addEventListener('close', () => {
      this.h.onState?.('closed');
      for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
      this.waiting.clear();
      this.received = 0;
      setTimeout(() => this.connect(), 2000);
    });
    ws.addEventListener('message', (ev) => this.message(ev.data));
  }

  message(data) {
    if (typeof data === 'string') {
      const reply = JSON.parse(data);
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.error) {
        const err = new Error(reply.error.message);
        err.code = reply.error.code;
        err.data = reply.error.data;
        w.reject(err);
      } else w.resolve({ result: reply.result, parts: w.parts });
      return;
    }
    const { meta, payload } = decode(data);
    if (meta.k === 'part') {
      this.waiting.get(meta.id)?.parts.push({ header: meta.header, payload });
      return;
    }
    this.received++;
    if (meta.k === 'frame') this.h.onFrame?.(meta.session, meta.header, payload);
    else if (meta.k === 'status') this.h.onStatus?.(meta.status);
    else if (meta.k === 'stats') this.h.onStats?.(meta);
    // Acknowledge once the handlers above have run (a busy page acknowledges late, and the daemon sends less).
    if (!this.ackQueued) {
      this.ackQueued = true;
      setTimeout(() => {
        this.ackQueued = false;
        if (this.ws.readyState === WebSocket.OPEN) this.ws.send(`{"ack":${this.received}}`);
      }, 0);
    }
  }

  /** One control request; resolves with {result, parts} (parts: sessions.frames payloads). */
  async call(method, params = {}) {
    await this.opened;
    const id = this.nextId++;
    const body = JSON.stringify({ id, method, params });
    this.h.onCall?.(method, params);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, parts: [] });
      this.ws.send(body);
    });
  }

  async rpc(method, params = {}) {
    return (await this.call(method, params)).result;
  }
}
