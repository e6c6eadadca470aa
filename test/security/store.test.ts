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
function runUnprivileged(args: string[], env: NodeJS.ProcessEnv = process.env, script = false) {
  const asRoot = process.getuid?.() === 0;
  const nobody = asRoot && spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(cli)})`], { uid: 65534, gid: 65534 }).status === 0;
  return spawnSync(process.execPath, script ? args : [cli, ...args], { cwd: root, env, encoding: 'utf8', ...(nobody ? { uid: 65534, gid: 65534 } : {}) });
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
      expect(rows.find((s) => s.id === 'stale'), JSON.stringify(rows)).toMatchObject({ status: 'interrupted' });
      const show = runUnprivileged(['sessions', 'show', 'done', '--sessions', dir]);
      expect(show.status, show.stderr).toBe(0);
      expect(show.stdout).toMatch(/status\s+completed/);
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(readdirSync(dir).filter((f) => /-wal$|-shm$/.test(f) && f.startsWith('done'))).toEqual([]);
  });
});

describe('a writer killed with -9 on a folder that is then read-only: its journaled frames are read, nothing is written (point 7)', () => {
  /** Records 5 frames in a child process that kills itself with SIGKILL: the frames stay in `-wal`. */
  function crash(dir: string): void {
    const script = `
      import { SessionStore } from ${JSON.stringify(join(root, 'dist/daemon/store/store.js'))};
      import { makeFrame } from ${JSON.stringify(join(root, 'dist/drivers/core/frame.js'))};
      const store = new SessionStore(${JSON.stringify(dir)}, { freeBytes: () => 2 ** 40 });
      const { writer } = store.create({ id: 'crashed', plan: 'p', params: {}, config: {}, softwareVersion: 't', instruments: {}, clock: 'virtual' });
      for (let i = 0; i < 5; i++) writer.append(makeFrame('cam0.frame', i, i, new Float64Array(4).fill(i + 0.5), [4]), 'instrument');
      writer.flushAll();
      process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect(existsSync(join(dir, 'crashed.db-wal'))).toBe(true);
  }

  for (const shm of ['kept', 'missing'] as const) {
    it(`with its -shm ${shm}: listed as interrupted with all 5 frames, values intact, no file added anywhere`, () => {
      const dir = tempDir('qscope-crash-');
      const tmp = tempDir('qscope-crash-tmp-');
      chmodSync(dir, 0o755);
      chmodSync(tmp, 0o777);
      crash(dir);
      if (shm === 'missing') rmSync(join(dir, 'crashed.db-shm'));
      for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o444);
      chmodSync(dir, 0o555);
      const before = readdirSync(dir).sort();
      try {
        const env = { ...process.env, TMPDIR: tmp };
        const list = runUnprivileged(['sessions', 'list', '--sessions', dir, '--json'], env);
        expect(list.status, list.stderr).toBe(0);
        const row = (JSON.parse(list.stdout) as { id: string; status: string; frames: number; reason: string }[])[0]!;
        expect(row).toMatchObject({ id: 'crashed', status: 'interrupted', frames: 5 });
        expect(row.reason).toMatch(/not marked in the file/);
        const show = runUnprivileged(['sessions', 'show', 'crashed', '--sessions', dir], env);
        expect(show.status, show.stderr).toBe(0);
        expect(show.stdout).toMatch(/cam0\.frame\s+instrument f64 \[4\] × 5/);
        // The values themselves, read by the same unprivileged user through the store.
        const script = `
          import { SessionStore } from ${JSON.stringify(join(root, 'dist/daemon/store/store.js'))};
          const r = new SessionStore(${JSON.stringify(dir)}).open('crashed');
          console.log(JSON.stringify([...r.frames()].map((f) => Array.from(f.payload))));
          r.close();`;
        const values = runUnprivileged(['--input-type=module', '-e', script], env, true);
        expect(values.status, values.stderr).toBe(0);
        expect(JSON.parse(values.stdout)).toEqual([0, 1, 2, 3, 4].map((i) => new Array(4).fill(i + 0.5)));
      } finally {
        chmodSync(dir, 0o755);
      }
      expect(readdirSync(dir).sort()).toEqual(before);
      // The private copy of a journal read without its -shm is removed when the reader closes.
      expect(readdirSync(tmp)).toEqual([]);
    });
  }
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
