/**
 * Issue 11, points 1, 5, 6 and 8 over the ZeroMQ API: session ids are never paths, sessions.frames is capped by
 * bytes while reading and reads in chunks with turns of the event loop between them, a client that does not
 * read its replies is dropped with bounded memory, unknown commands stay unknown, and requests in flight at
 * shutdown are answered.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Dealer } from 'zeromq';
import { Dispatcher } from '../../daemon/api/dispatcher.js';
import { engineTarget } from '../../daemon/api/engine-target.js';
import { MemoryTarget } from '../../daemon/api/memory-target.js';
import { ErrorCode } from '../../daemon/api/protocol.js';
import { ApiServer, type ApiOptions } from '../../daemon/api/server.js';
import { RpcCallError } from '../../daemon/api/client.js';
import { makeEngine, tmpDir } from '../daemon/engine/helpers.js';
import { client, EPHEMERAL, startApi } from '../daemon/api/helpers.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function engineApi(opts: ApiOptions = {}) {
  const tmp = tmpDir('qscope-sec-api-');
  cleanup.push(tmp.cleanup);
  const sessions = join(tmp.dir, 'sessions');
  const rig = await makeEngine(sessions);
  const server = new ApiServer(engineTarget(rig.engine, 'test'), { ...EPHEMERAL, lingerMs: 0, ...opts });
  const endpoints = await server.start();
  cleanup.push(() => server.stop());
  const c = client(endpoints);
  cleanup.push(() => c.close());
  const id = await c.start('test-stream', { maxFrames: 400, stopAfter: 1000, exposureMs: 5 }).then((s) => s.id);
  await rig.engine.whenEnded(id);
  return { ...rig, tmp, sessions, server, endpoints, c, id };
}

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

async function rpcError(p: Promise<unknown>): Promise<RpcCallError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RpcCallError);
  return err as RpcCallError;
}

describe('session ids are names in the sessions folder, never paths (point 1)', () => {
  it('paths, .db names and traversal are refused by the schema; a file elsewhere is neither read nor rewritten', async () => {
    const { c, tmp, sessions, id } = await engineApi();
    // Another folder holds a session whose file still says `running` (its writer is gone).
    const other = join(tmp.dir, 'other');
    mkdirSync(other);
    const victim = join(other, 'X.db');
    copyFileSync(join(sessions, `${id}.db`), victim);
    const db = new Database(victim);
    db.prepare("UPDATE session SET status = 'running'").run();
    db.pragma('journal_mode = DELETE');
    db.close();
    const before = sha(victim);
    for (const bad of [victim, '/etc/hostname', 'X.db', `../other/X`, `${id}.db`, `sessions/${id}`, '', 'a'.repeat(129)]) {
      const e1 = await rpcError(c.call('sessions.status', { id: bad }));
      expect(e1.code).toBe(ErrorCode.INVALID_PARAMS);
      expect(e1.message).not.toMatch(/bytes is too short|SQLite/);
      const e2 = await rpcError(c.call('sessions.frames', { id: bad, stream: 'cam0.frame', fromSeq: 0, toSeq: 10 }));
      expect(e2.code).toBe(ErrorCode.INVALID_PARAMS);
    }
    expect(sha(victim)).toBe(before);
    // A symlink inside the sessions folder is not followed either.
    symlinkSync(victim, join(sessions, 'evil.db'));
    const e3 = await rpcError(c.call('sessions.status', { id: 'evil' }));
    expect(e3.code).toBe(ErrorCode.UNKNOWN_SESSION);
    expect(e3.message).toMatch(/symbolic link/);
    expect(sha(victim)).toBe(before);
    // The issued id itself works.
    expect((await c.call('sessions.status', { id })).state).toBe('completed');
  });

  it('a missing sessions folder is an error over the API, never an empty list (point 7)', async () => {
    const { c, sessions } = await engineApi();
    rmSync(sessions, { recursive: true });
    const e = await rpcError(c.sessions());
    expect(e.code).toBe(ErrorCode.STORAGE_ERROR);
    expect(e.message).toMatch(/sessions folder .*cannot list \(no such folder\)/);
  });
});

describe('sessions.frames: capped by bytes while reading, off the event loop in chunks (point 5)', () => {
  it('a reply stops at maxReplyBytes and says where to continue; the client pages through everything', async () => {
    const { c, id } = await engineApi({ maxReplyBytes: 1024 });
    const r = await c.call('sessions.frames', { id, stream: 'cam0.frame', fromSeq: 0, toSeq: Number.MAX_SAFE_INTEGER, limit: 10_000 });
    expect(r.frames.length).toBe(8); // 8 × 128 bytes
    expect(r.nextSeq).toBe(8);
    const all = await c.frames(id, 'cam0.frame', 0, Number.MAX_SAFE_INTEGER);
    expect(all.map((f) => f.header.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i));
  });

  it('the engine reads sizes first and the payloads in chunks, handing the event loop back between them', async () => {
    const { engine, id } = await engineApi();
    let ticks = 0;
    let reading = true;
    const tick = () => {
      ticks++;
      if (reading) setImmediate(tick);
    };
    setImmediate(tick);
    const page = await engine.readFrames(id, 'cam0.frame', 0, Number.MAX_SAFE_INTEGER, 10_000, 10_000, 1024);
    reading = false;
    // 10 000 bytes cap → 78 frames of 128 bytes (never read beyond), in chunks of 8 → 9 turns given back at least.
    expect(page.frames.length).toBe(78);
    expect(page.nextSeq).toBe(78);
    expect(ticks).toBeGreaterThanOrEqual(9);
  });

  it('sizes are read in pages too: limits, byte caps and seq ranges hold across page boundaries', async () => {
    const { engine, id } = await engineApi();
    const seqs = (p: { frames: { header: { seq: number } }[] }) => p.frames.map((f) => f.header.seq);
    // limit 250 in pages of 64 sizes: exactly 250 frames, continue at 250.
    const byLimit = await engine.readFrames(id, 'cam0.frame', 0, Number.MAX_SAFE_INTEGER, 250, 1e9, 2 ** 20, 64);
    expect(seqs(byLimit)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(byLimit.nextSeq).toBe(250);
    // 10 000 bytes in pages of 16 sizes: 78 frames of 128 bytes, continue at 78 (as with one big page).
    const byBytes = await engine.readFrames(id, 'cam0.frame', 0, Number.MAX_SAFE_INTEGER, 10_000, 10_000, 2 ** 20, 16);
    expect(byBytes.frames.length).toBe(78);
    expect(byBytes.nextSeq).toBe(78);
    // seq 10..100 in pages of 16: all 91, nothing to continue.
    const byRange = await engine.readFrames(id, 'cam0.frame', 10, 100, 10_000, 1e9, 2 ** 20, 16);
    expect(seqs(byRange)).toEqual(Array.from({ length: 91 }, (_, i) => i + 10));
    expect(byRange.nextSeq).toBeNull();
    // The last page ends exactly at the end of the stream (400 = 25 × 16): all 400, nothing to continue.
    const all = await engine.readFrames(id, 'cam0.frame', 0, Number.MAX_SAFE_INTEGER, 10_000, 1e9, 2 ** 20, 16);
    expect(all.frames.length).toBe(400);
    expect(all.nextSeq).toBeNull();
    // The headers' JSON, built a chunk at a time, is the JSON of all the headers at once.
    for (const page of [byLimit, byBytes, byRange, all]) expect(page.headersJson).toBe(JSON.stringify(page.frames.map((f) => f.header)));
  });

  it('the reply text with the headers serialised a chunk at a time is the one JSON.stringify gives', async () => {
    const { engine, id } = await engineApi();
    const d = new Dispatcher(engineTarget(engine, 'test'), { maxRequestBytes: 2 ** 20, maxReplyBytes: 10_000 });
    for (const [fromSeq, toSeq] of [[0, Number.MAX_SAFE_INTEGER], [5, 9]] as const) {
      const reply = await d.dispatch(Buffer.from(JSON.stringify({ id: 'r1', method: 'sessions.frames', params: { id, stream: 'cam0.frame', fromSeq, toSeq, limit: 1000 } })));
      const page = await engine.readFrames(id, 'cam0.frame', fromSeq, toSeq, 1000, 10_000);
      const expected = JSON.stringify({ id: 'r1', result: { session: id, stream: 'cam0.frame', frames: page.frames.map((f) => f.header), nextSeq: page.nextSeq } });
      expect(reply.error).toBeUndefined();
      expect(reply.json).toBe(expected);
      expect(reply.parts.length).toBe(page.frames.length);
    }
  });
});

describe('a client that does not read its replies is dropped, with bounded memory (point 5)', () => {
  it('forty pipelined sessions.frames whose replies are never read: the client is dropped, others are served', async () => {
    const target = new MemoryTarget();
    const maxReplyBytes = 1 << 20;
    const api = await startApi({ maxReplyBytes, maxClientReplyBytes: 4 * maxReplyBytes, dropAfterMs: 200, replyHighWaterMark: 2 }, target);
    cleanup.push(() => api.server.stop());
    const c = client(api.endpoints);
    cleanup.push(() => c.close());
    const s = await c.start('stream', { frames: 200, values: 4096, chunk: 50 }); // 32 KiB frames
    await target.whenDone(s.id);
    const hog = new Dealer({ linger: 0, receiveHighWaterMark: 1, sendHighWaterMark: 1000 });
    hog.connect(api.endpoints.control);
    cleanup.push(() => hog.close());
    for (let i = 0; i < 40; i++) {
      await hog.send(JSON.stringify({ id: i, method: 'sessions.frames', params: { id: s.id, stream: 'stage0.signal0', fromSeq: 0, toSeq: 199, limit: 200 } }));
    }
    const replies = api.server.control.replies;
    let maxQueued = 0;
    while (replies.stats.droppedClients === 0) {
      maxQueued = Math.max(maxQueued, replies.queuedBytes);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(replies.stats.droppedClients).toBe(1);
    // Never more than the per-client bound waited in the daemon for it (plus the reply that tipped it over).
    expect(maxQueued).toBeLessThanOrEqual(4 * maxReplyBytes + maxReplyBytes + 65536);
    while (api.server.control.stats.requests < 40) await new Promise((r) => setTimeout(r, 5));
    expect(replies.queuedBytes).toBeLessThan(maxReplyBytes); // its replies were discarded
    expect((await c.status()).running).toBeNull();
  });
});

describe('validation gaps at the API (point 6) and shutdown (point 8)', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])("instruments.call {command: '%s'} is an unknown command, not an internal error", async (command) => {
    const api = await startApi();
    cleanup.push(() => api.server.stop());
    const c = client(api.endpoints);
    cleanup.push(() => c.close());
    const e = await rpcError(c.callInstrument('stage0', command));
    expect(e.code).toBe(ErrorCode.UNKNOWN_COMMAND);
    expect(e.message).toMatch(new RegExp(`has no command '${command}'`));
  });

  it('a request still in flight when the daemon stops is answered "shutting down" with its own id', async () => {
    const target = new MemoryTarget();
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    target.listPlans = () => {
      entered();
      return new Promise(() => {}) as never; // never finishes
    };
    // The daemon's own linger (not the tests' 0), so replies queued at close still leave.
    const api = await startApi({ lingerMs: 500 }, target);
    // A generous client deadline: the daemon's grace period runs first, and a loaded machine must not turn the
    // awaited "shutting down" reply into a client-side timeout.
    const c = client(api.endpoints, { timeoutMs: 30_000 });
    cleanup.push(() => c.close());
    const call = c.plans().then(() => undefined, (e: unknown) => e);
    await inside;
    await api.server.stop();
    const err = (await call) as RpcCallError;
    expect(err).toBeInstanceOf(RpcCallError);
    expect(err.code).toBe(ErrorCode.SHUTTING_DOWN);
    expect(err.message).toMatch(/shutting down/);
  });
});
