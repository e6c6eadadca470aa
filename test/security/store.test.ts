/**
 * Issue 11, points 7 and 8 at the session store: errors are errors (a missing or unreadable sessions folder),
 * reading works on read-only folders and leaves nothing behind, and a deleted lock file does not turn a live
 * recording into an interrupted one.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockPathOf } from '../../daemon/store/lock.js';
import { SessionStore, SessionsDirError } from '../../daemon/store/store.js';
import { makeFrame } from '../../drivers/core/frame.js';
import { cli, removeTempDirs, root, tempDir } from '../daemon/helpers.js';

afterAll(removeTempDirs);

function record(dir: string, id: string, finish = true) {
  const store = new SessionStore(dir, { freeBytes: () => 2 ** 40 });
  const { writer } = store.create({ id, plan: 'p', params: {}, config: {}, softwareVersion: 't', instruments: {}, clock: 'virtual' });
  writer.append(makeFrame('cam0.frame', 0, 0, new Float64Array(4), [4]), 'instrument');
  writer.flushAll();
  if (finish) writer.finish({ status: 'completed', durationNs: 1 });
  return { store, writer };
}

/** Runs `qscope ARGS` as an unprivileged user when we are root (root ignores file modes), else as ourselves. */
function runUnprivileged(args: string[]) {
  const asRoot = process.getuid?.() === 0;
  const nobody = asRoot && spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(cli)})`], { uid: 65534, gid: 65534 }).status === 0;
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', ...(nobody ? { uid: 65534, gid: 65534 } : {}) });
}

describe('errors are errors, never "no sessions" (point 7)', () => {
  it('a missing folder: list() throws and `sessions list` exits 2 naming it', () => {
    const dir = join(tempDir('qscope-missing-'), 'nope');
    expect(() => new SessionStore(dir).list()).toThrow(SessionsDirError);
    expect(() => new SessionStore(dir).list()).toThrow(/sessions folder .*nope: cannot list \(no such folder\)/);
    const r = spawnSync(process.execPath, [cli, 'sessions', 'list', '--sessions', dir], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot list \(no such folder\)/);
    expect(r.stdout).not.toMatch(/no sessions/);
  });

  it('a file where the folder should be is an error too', () => {
    const base = tempDir('qscope-notdir-');
    writeFileSync(join(base, 'sessions'), 'x');
    expect(() => new SessionStore(join(base, 'sessions')).list()).toThrow(/cannot list \(not a folder\)/);
  });
});

describe('read-only access works and leaves nothing behind (point 7)', () => {
  it('listing a folder leaves no -wal or -shm beside finished sessions', () => {
    const dir = tempDir('qscope-list-');
    record(dir, 'a');
    record(dir, 'b');
    const store = new SessionStore(dir);
    expect(store.list().map((s) => s.status)).toEqual(['completed', 'completed']);
    store.open('a').close();
    expect(readdirSync(dir).sort()).toEqual(['a.db', 'b.db']);
  });

  it('a folder the reader may read but not write: sessions list and show work, a stale running session reads as interrupted', () => {
    const dir = tempDir('qscope-ro-');
    chmodSync(dir, 0o755);
    record(dir, 'done');
    const { writer } = record(dir, 'stale', false);
    // The writer "dies": its connection and lock go, the file still says running.
    (writer as unknown as { db: { close(): void } }).db.close();
    (writer as unknown as { lock: { release(): void } }).lock.release();
    (writer as unknown as { closed: boolean }).closed = true;
    for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o444);
    chmodSync(dir, 0o555);
    try {
      const list = runUnprivileged(['sessions', 'list', '--sessions', dir, '--json']);
      expect(list.status, list.stderr).toBe(0);
      const rows = JSON.parse(list.stdout) as { id: string; status: string; reason?: string }[];
      expect(rows.find((s) => s.id === 'done')?.status).toBe('completed');
      // A crashed writer's WAL files cannot be read without write access (SQLite needs its -shm): listed, with why.
      const stale = rows.find((s) => s.id === 'stale')!;
      expect(stale).toBeDefined();
      expect(['interrupted', 'unreadable']).toContain(stale.status);
      const show = runUnprivileged(['sessions', 'show', 'done', '--sessions', dir]);
      expect(show.status, show.stderr).toBe(0);
      expect(show.stdout).toMatch(/status\s+completed/);
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(readdirSync(dir).filter((f) => /-wal$|-shm$/.test(f) && f.startsWith('done'))).toEqual([]);
  });
});

describe('a deleted lock file does not make a live recording "interrupted" (point 8)', () => {
  it('the database lock of the live writer is checked too', () => {
    const dir = tempDir('qscope-lock-');
    const { store, writer } = record(dir, 'live', false);
    rmSync(lockPathOf(join(dir, 'live.db')), { force: true });
    expect(existsSync(lockPathOf(join(dir, 'live.db')))).toBe(false);
    expect(store.list().find((s) => s.id === 'live')?.status).toBe('running');
    const r = store.open('live');
    expect(r.session().status).toBe('running');
    r.close();
    writer.finish({ status: 'completed', durationNs: 1 });
    expect(store.list().find((s) => s.id === 'live')?.status).toBe('completed');
  });

  it('a writer that is really gone (no lock, no connection) is marked interrupted', () => {
    const dir = tempDir('qscope-lock-');
    const { store, writer } = record(dir, 'dead', false);
    (writer as unknown as { db: { close(): void } }).db.close();
    (writer as unknown as { lock: { release(): void } }).lock.release();
    (writer as unknown as { closed: boolean }).closed = true;
    expect(store.list().find((s) => s.id === 'dead')?.status).toBe('interrupted');
    accessSync(join(dir, 'dead.db'), constants.R_OK);
    expect(readdirSync(dir).sort()).toEqual(['dead.db']);
  });
});
