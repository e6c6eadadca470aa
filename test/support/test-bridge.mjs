/**
 * A bridge for the tests, written from docs/BRIDGE.md alone (it imports
 * nothing of qscope): a ROUTER + PUB server that serves *recorded* frames.
 *
 * A recording is `{instruments: [{id, kind, static: {method: result}, streams: {method: [{fields, dtype, shape, data}]}}]}`:
 * a request for a `static` method gets that result; a request for a `streams`
 * method gets the next recorded frame of that method (a cursor per
 * instrument and method, saved to `cursorFile` before the reply is sent, so a
 * restarted bridge goes on where the killed one stopped).
 *
 * Behaviours for tests: `protocol` (the version it claims), `holdAt`
 * ({method, index}: that request is never answered and `HOLD` is printed),
 * `deferFirst` (the first streamed request is answered only after the next
 * one arrived, i.e. late), `silent` (never answers pings).
 *
 * In-process: `await startTestBridge(options)`; as a process:
 * `node test-bridge.mjs OPTIONS.json` prints `READY <control endpoint>`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as zmq from 'zeromq';

const DTYPE_BYTES = { f64: 8, f32: 4, i32: 4, u32: 4, i16: 2, u16: 2, u8: 1, i8: 1 };
const ARRAY = { f64: Float64Array, f32: Float32Array, i32: Int32Array, u32: Uint32Array, i16: Int16Array, u16: Uint16Array, u8: Uint8Array, i8: Int8Array };

function payloadBytes(frame) {
  const a = ARRAY[frame.dtype].from(frame.data);
  if (a.length * DTYPE_BYTES[frame.dtype] !== a.byteLength) throw new Error('bad recording');
  return Buffer.from(a.buffer);
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
function z85Decode(s) {
  const out = Buffer.alloc((s.length / 5) * 4);
  for (let i = 0; i < s.length; i += 5) {
    let v = 0;
    for (let j = 0; j < 5; j++) v = v * 85 + Z85.indexOf(s[i + j]);
    out.writeUInt32BE(v, (i / 5) * 4);
  }
  return out;
}

/** ZAP (RFC 27) on the bridge's own context: only the listed client keys pass the CURVE handshake. */
async function startZap(context, allowZ85) {
  const allow = allowZ85.map((k) => z85Decode(k).toString('hex'));
  const zap = new zmq.Router({ context, linger: 0 });
  await zap.bind('inproc://zeromq.zap.01');
  (async () => {
    try {
      for await (const f of zap) {
        const [rid, , version, requestId, , , , mechanism, key] = f;
        const ok = version.toString() === '1.0' && mechanism.toString() === 'CURVE' && key && allow.includes(key.toString('hex'));
        await zap.send([rid, '', '1.0', requestId, ok ? '200' : '400', ok ? 'OK' : 'key not allowed', '', '']);
      }
    } catch {
      // closed
    }
  })();
  return zap;
}

export async function startTestBridge(o) {
  // CURVE (docs/BRIDGE.md, Security): {secretKey, allow: [client public keys]}, on a context of its own for its ZAP handler.
  const context = o.curve ? new zmq.Context() : undefined;
  const zap = o.curve ? await startZap(context, o.curve.allow) : undefined;
  const sec = o.curve ? { context, curveServer: true, curveSecretKey: o.curve.secretKey } : {};
  const router = new zmq.Router({ linger: 0, ...sec });
  const pub = new zmq.Publisher({ linger: 0, ...sec });
  await router.bind(o.control ?? 'tcp://127.0.0.1:*');
  await pub.bind(o.data ?? 'tcp://127.0.0.1:*');
  const control = router.lastEndpoint;
  const protocol = o.protocol ?? 1;
  const instruments = o.recording.instruments;
  const cursors = o.cursorFile && existsSync(o.cursorFile) ? JSON.parse(readFileSync(o.cursorFile, 'utf8')) : {};
  const clients = new Map(); // routing id (hex) -> Buffer
  const log = [];
  let chain = Promise.resolve();
  const send = (parts) => {
    const p = chain.then(() => router.send(parts));
    chain = p.catch(() => undefined);
    return p;
  };
  const reply = (rid, id, body, payload) => send([rid, JSON.stringify({ v: protocol, type: 'reply', id, ...body }), ...(payload ? [payload] : [])]);
  let deferred; // the first streamed request, answered late

  const describe = () =>
    instruments.map((i) => ({
      id: i.id,
      kind: i.kind,
      model: 'recording',
      serial: 'test',
      firmware: '0',
      channels: [],
      commands: Object.fromEntries([...Object.keys(i.static ?? {}), ...Object.keys(i.streams ?? {})].map((m) => [m, { description: m, params: { type: 'object' }, mutating: false }])),
    }));

  async function handle(rid, env) {
    log.push(env.method);
    if (env.method === 'hello') {
      if (o.refuse) return reply(rid, env.id, { error: { code: 'PROTOCOL', message: `this bridge speaks protocol ${protocol} only` } });
      return reply(rid, env.id, { result: { protocol, bridge: { name: 'test-bridge', version: '1' }, sdk: { name: 'none', version: '0' }, data: pub.lastEndpoint, heartbeatMs: 1000, instruments: describe() } });
    }
    if (env.method === 'describe') return reply(rid, env.id, { result: { instruments: describe() } });
    const inst = instruments.find((i) => i.id === env.instrument);
    if (!inst) return reply(rid, env.id, { error: { code: 'UNKNOWN_INSTRUMENT', message: `no instrument '${env.instrument}'` } });
    if (inst.static && env.method in inst.static) return reply(rid, env.id, { result: inst.static[env.method] });
    const frames = inst.streams?.[env.method];
    if (!frames) return reply(rid, env.id, { error: { code: 'UNKNOWN_METHOD', message: `${inst.id} has no method '${env.method}'` } });
    const key = `${inst.id}/${env.method}`;
    const index = cursors[key] ?? 0;
    if (o.holdAt && o.holdAt.method === env.method && o.holdAt.index === index) {
      if (o.announce) process.stdout.write(`HOLD ${key} ${index}\n`);
      return; // never answered
    }
    if (index >= frames.length) return reply(rid, env.id, { error: { code: 'SDK', message: `recording of ${key} exhausted after ${frames.length} frames` } });
    cursors[key] = index + 1;
    if (o.cursorFile) writeFileSync(o.cursorFile, JSON.stringify(cursors));
    const f = frames[index];
    const answer = () => reply(rid, env.id, { result: { frame: { dtype: f.dtype, shape: f.shape, ...f.fields } } }, payloadBytes(f));
    if (o.deferFirst && !deferred && index === 0) {
      deferred = answer; // answered when the next request comes
      return;
    }
    if (deferred) {
      const late = deferred;
      deferred = undefined;
      await late();
    }
    return answer();
  }

  let closed = false;
  (async () => {
    for (;;) {
      let msg;
      try {
        msg = await router.receive();
      } catch {
        return;
      }
      const [rid, raw] = msg;
      clients.set(rid.toString('hex'), rid);
      let env;
      try {
        env = JSON.parse(raw.toString('utf8'));
      } catch {
        continue;
      }
      if (env.type === 'ping') {
        if (!o.silent) send([rid, JSON.stringify({ v: protocol, type: 'pong', t: env.t })]).catch(() => undefined);
      } else if (env.type === 'request') {
        if (env.v !== protocol && env.method !== 'hello') reply(rid, env.id, { error: { code: 'PROTOCOL', message: `protocol ${env.v} not spoken` } }).catch(() => undefined);
        else handle(rid, env).catch(() => undefined);
      }
    }
  })();

  return {
    control,
    data: pub.lastEndpoint,
    log,
    publish: (topic, header, payload) => pub.send([topic, JSON.stringify(header), payload]),
    /** Clean shutdown: `bye` to every client seen, then close. */
    async close(reason = 'test bridge shutting down') {
      if (closed) return;
      closed = true;
      for (const rid of clients.values()) await send([rid, JSON.stringify({ v: protocol, type: 'bye', reason })]).catch(() => undefined);
      await chain;
      router.linger = 2000; // let the byes leave before the socket goes
      router.close();
      pub.close();
      zap?.close();
    },
    /** Closes without a word (as if the process died). */
    drop() {
      closed = true;
      router.close();
      pub.close();
      zap?.close();
    },
  };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const opts = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  opts.recording = JSON.parse(readFileSync(opts.recordingFile, 'utf8'));
  opts.announce = true;
  const b = await startTestBridge(opts);
  process.stdout.write(`READY ${b.control}\n`);
  process.on('SIGTERM', async () => {
    await b.close('SIGTERM');
    process.exit(0);
  });
}
