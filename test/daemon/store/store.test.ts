import { closeSync, existsSync, openSync, readFileSync, readdirSync, truncateSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeFrame } from '../../../drivers/core/frame.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { openReadWrite } from '../../../daemon/store/db.js';
import { DEFAULT_LIMITS } from '../../../daemon/store/writer.js';
import { WriterLock } from '../../../daemon/store/lock.js';
import { makeEngine, tmpDir } from '../engine/helpers.js';

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => {
  tmp = tmpDir();
});
afterEach(() => tmp.cleanup());

const base = { plan: 'p', params: { a: 1 }, config: { rig: { seed: 1 } }, softwareVersion: 't', instruments: {}, clock: 'virtual' };
const limits = { ...DEFAULT_LIMITS, minFreeBytes: 1 };

describe('session store', () => {
  for (const durability of ['normal', 'full'] as const) {
    it(`sets and reads back WAL and synchronous=${durability} on create and on every reopen`, () => {
      const store = new SessionStore(tmp.dir, { durability, limits });
      const { id, writer } = store.create({ ...base, id: 's1' });
      writer.finish({ status: 'completed', durationNs: 0 });
      const db = openReadWrite(store.pathOf(id), { durability, checkpointIntervalMs: 1000 });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(durability === 'full' ? 2 : 1);
      db.close();
      // A plain reopen falls back to NORMAL — the pitfall the read-back guards against.
      const raw = new Database(store.pathOf(id));
      expect(raw.pragma('synchronous', { simple: true })).not.toBe(3);
      raw.close();
    });
  }

  it('round-trips frames, results and events exactly, with dtype, shape and header fields', async () => {
    const store = new SessionStore(tmp.dir, { limits });
    const { id, writer } = store.create({ ...base, id: 's2' });
    const f64 = makeFrame('a.x', 0, 5, new Float64Array([1.5, -2, Math.PI, NaN]), [2, 2], { pos: [1, 2] });
    const u16 = makeFrame('a.y', 0, 7, new Uint16Array([1, 65535, 3]));
    const res = makeFrame('p.img', 0, 9, new Float32Array([0.25]), [1], { it: 3 });
    writer.append(f64, 'instrument');
    writer.append(u16, 'instrument');
    writer.append(res, 'result');
    writer.event(3, 'command', 'a', { command: 'go', params: { v: 1 } });
    // Queued is not recorded: only a committed transaction counts.
    expect(writer.committed).toEqual({ frames: 0, results: 0, events: 0 });
    writer.flushAll();
    expect(writer.committed).toEqual({ frames: 2, results: 1, events: 1 });
    writer.finish({ status: 'completed', reason: 'done', durationNs: 10 });
    const r = store.open(id);
    const frames = [...r.frames('frames')];
    expect(frames.map((f) => f.header)).toEqual([f64.header, u16.header]);
    expect(frames[0]!.payload).toBeInstanceOf(Float64Array);
    expect([...frames[0]!.payload]).toEqual([...f64.payload]);
    expect([...r.frames('results')][0]).toEqual(res);
    expect(r.events()).toEqual([{ id: 1, t: 3, type: 'command', source: 'a', data: { command: 'go', params: { v: 1 } } }]);
    expect(r.streams()).toEqual([
      { name: 'a.x', kind: 'instrument', dtype: 'f64', shape: [2, 2], unit: null, count: 1 },
      { name: 'a.y', kind: 'instrument', dtype: 'u16', shape: [3], unit: null, count: 1 },
      { name: 'p.img', kind: 'result', dtype: 'f32', shape: [1], unit: null, count: 1 },
    ]);
    expect(r.session()).toMatchObject({ id: 's2', status: 'completed', reason: 'done', durationNs: 10, params: { a: 1 } });
    r.close();
    expect(existsSync(store.pathOf(id) + '.lock')).toBe(false);
  });

  it('back-pressure: a full queue makes the producer wait, and nothing is dropped', async () => {
    const store = new SessionStore(tmp.dir, { limits: { ...limits, maxQueueItems: 20, batchItems: 7 } });
    const { id, writer } = store.create({ ...base, id: 's3' });
    let waits = 0;
    for (let seq = 0; seq < 500; seq++) {
      writer.append(makeFrame('a.h', seq, seq, new Uint32Array([seq])), 'instrument');
      if (writer.full) {
        waits++;
        expect(writer.queued).toBeGreaterThanOrEqual(20);
        await writer.drained();
        expect(writer.queued).toBeLessThanOrEqual(10);
      }
    }
    expect(waits).toBeGreaterThan(10);
    writer.finish({ status: 'completed', durationNs: 0 });
    const r = store.open(id);
    expect([...r.frames('frames')].map((f) => f.payload[0])).toEqual([...Array(500).keys()]);
    r.close();
  });

  it('a write error ends recording once (no retry on every turn), and finish() still writes the queued tail once the fault clears', async () => {
    const store = new SessionStore(tmp.dir, { limits: { ...limits, batchItems: 8 } });
    const { id, writer } = store.create({ ...base, id: 's-werr' });
    // A second connection injects the fault: every insert into frames aborts.
    const other = new Database(writer.path);
    other.exec("CREATE TRIGGER inject BEFORE INSERT ON frames BEGIN SELECT RAISE(ABORT, 'injected'); END;");
    const fatal: Error[] = [];
    writer.onFatal = (err) => fatal.push(err);
    for (let seq = 0; seq < 40; seq++) writer.append(makeFrame('a.h', seq, seq, new Uint32Array([seq])), 'instrument');
    for (let i = 0; i < 20 && fatal.length === 0; i++) await new Promise((r) => setImmediate(r));
    expect(fatal.map((e) => e.message)).toEqual([`${writer.path}: write failed: injected`]);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect((writer as unknown as { flushScheduled: unknown }).flushScheduled).toBe(false);
    expect(writer.queued).toBe(40);
    other.exec('DROP TRIGGER inject');
    other.close();
    writer.finish({ status: 'failed', reason: 'write failed', durationNs: 0 });
    const r = store.open(id);
    expect(r.session()).toMatchObject({ status: 'failed', reason: 'write failed' });
    expect([...r.frames('frames')].map((f) => f.payload[0])).toEqual([...Array(40).keys()]);
    r.close();
  });

  it('metadata JSON cannot hold is refused by name before any file, lock or handle is taken', () => {
    const store = new SessionStore(tmp.dir, { limits });
    const fds = readdirSync('/proc/self/fd').length;
    expect(() => store.create({ ...base, id: 's-big', metadata: { shots: 1n } })).toThrow(/^session metadata: not JSON-serialisable/);
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
    expect(existsSync(join(tmp.dir, 's-big.db'))).toBe(false);
    const { writer } = store.create({ ...base, id: 's-big' });
    writer.finish({ status: 'completed', durationNs: 0 });
  });

  it('a live writer is never mislabelled; once the writer is gone the session reads as interrupted', () => {
    const store = new SessionStore(tmp.dir, { limits });
    const { id, writer } = store.create({ ...base, id: 's4' });
    writer.append(makeFrame('a.h', 0, 0, new Uint32Array([1])), 'instrument');
    writer.flushAll();
    expect(WriterLock.isHeld(store.pathOf(id))).toBe(true);
    expect(store.list()).toMatchObject([{ id: 's4', status: 'running', frames: 1 }]);
    // The writer vanishes without closing the session (as a killed process would).
    const w = writer as unknown as { db: Database.Database; lock: WriterLock };
    w.db.close();
    w.lock.release(false);
    expect(store.list()).toMatchObject([{ id: 's4', status: 'interrupted', frames: 1 }]);
    const r = store.open(id);
    expect(r.session().reason).toMatch(/writer stopped/);
    r.close();
    expect(() => WriterLock.acquire(store.pathOf(id)).release()).not.toThrow();
  });

  it('refuses to start with too little free disk, and stops a session cleanly when space runs low', async () => {
    let free = 10 * 2 ** 20;
    const store = new SessionStore(tmp.dir, { limits: { ...limits, minFreeBytes: 64 * 2 ** 20, diskCheckEveryBytes: 1000 }, freeBytes: () => free });
    expect(() => store.create({ ...base })).toThrow(/disk: 10 MiB free .* below the 64 MiB minimum; not starting/);
    expect(readdirSync(tmp.dir)).toEqual([]);

    free = 2 ** 30;
    const { engine } = await makeEngine(tmp.dir, { store: { limits: { ...limits, minFreeBytes: 64 * 2 ** 20, diskCheckEveryBytes: 1000 }, freeBytes: () => free } });
    const sub = engine.frames$.subscribe((f) => {
      if (f.frame.header.seq === 10) free = 32 * 2 ** 20;
    });
    const id = await engine.start('test-stream', { stopAfter: 1000, maxFrames: 1000 });
    const st = await engine.whenEnded(id);
    sub.unsubscribe();
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/^disk: 32 MiB free .* below the 64 MiB minimum; recording stopped/);
    const r = engine.store.open(id);
    expect(r.session()).toMatchObject({ status: 'failed', reason: st.reason });
    expect(r.count('frames')).toBe(st.frames);
    expect(r.integrity()).toBe('ok');
    r.close();
  });
});

describe('corrupt and foreign files', () => {
  function snapshot(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const n of readdirSync(dir)) out[n] = readFileSync(join(dir, n)).toString('base64');
    return out;
  }

  it('random bytes, an empty file, a foreign SQLite file, a truncated session and a missing file give clear errors and touch nothing', async () => {
    const store = new SessionStore(tmp.dir, { limits });
    const { id, writer } = store.create({ ...base, id: 'good' });
    for (let i = 0; i < 300; i++) writer.append(makeFrame('a.h', i, i, new Uint32Array(215).fill(i)), 'instrument');
    writer.finish({ status: 'completed', durationNs: 0 });
    const good = store.pathOf(id);
    writeFileSync(join(tmp.dir, 'random.db'), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)));
    writeFileSync(join(tmp.dir, 'empty.db'), '');
    const foreign = new Database(join(tmp.dir, 'foreign.db'));
    foreign.exec('CREATE TABLE t (x)');
    foreign.close();
    copyFileSync(good, join(tmp.dir, 'truncated.db'));
    truncateSync(join(tmp.dir, 'truncated.db'), Math.floor(statSync(good).size / 2) + 100);
    const before = snapshot(tmp.dir);
    const cases: [string, RegExp][] = [
      ['random.db', /random\.db: not a qscope session \(not an SQLite database\)/],
      ['empty.db', /empty\.db: not a qscope session \(0 bytes is too short/],
      ['foreign.db', /foreign\.db: not a qscope session \(SQLite application_id 0x0, expected 0x71736370\)/],
      ['truncated.db', /truncated\.db: truncated or corrupt/],
      ['missing.db', /missing\.db: no such session file/],
    ];
    for (const [name, re] of cases) {
      expect(() => store.open(join(tmp.dir, name), { verify: true })).toThrow(re);
      expect(() => store.open(join(tmp.dir, name), { verify: true })).toThrow(expect.objectContaining({ code: 'SESSION_FILE' }));
    }
    expect(snapshot(tmp.dir)).toEqual(before);
    // A truncation on a page boundary passes the size check; quick_check catches it.
    const pageAligned = join(tmp.dir, 'aligned.db');
    copyFileSync(good, pageAligned);
    truncateSync(pageAligned, 4096 * Math.floor(statSync(good).size / 4096 / 2));
    expect(() => store.open(pageAligned, { verify: true })).toThrow(/aligned\.db: .*(corrupt|malformed)/);
    const list = store.list().filter((s) => s.status === 'unreadable').map((s) => s.id).sort();
    expect(list).toEqual(['aligned', 'empty', 'foreign', 'random', 'truncated']);
    closeSync(openSync(good, 'r'));
  });
});
