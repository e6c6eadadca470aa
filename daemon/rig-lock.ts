/**
 * The rig lock: one daemon or `qscope run` per rig. Taken by the composition
 * root before any instrument is connected and held for the daemon's life:
 * one lock for the rig's name and one per instrument address (a real adapter's
 * `address`, `path` or `host:port`), so two configs naming the same hardware
 * under different rig names still collide. Stale-lock safe: it is a
 * ProcessLock (daemon/store/lock.ts), which the operating system releases
 * when the holder dies.
 *
 * Lock files live in `QSCOPE_LOCK_DIR`, else `<tmpdir>/qscope-locks`.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockHeldError, ProcessLock } from './store/lock.js';

export { LockHeldError };

/** Where rig locks live: `QSCOPE_LOCK_DIR` or `<tmpdir>/qscope-locks`. */
export function defaultLockDir(): string {
  return process.env.QSCOPE_LOCK_DIR || join(tmpdir(), 'qscope-locks');
}

/** The name every rig without `rig.name` shares. */
export const UNNAMED_RIG = 'unnamed-rig';

/** What a rig config locks: `rig <name>` plus `instrument <address>` for each addressed instrument. */
export function rigLockKeys(config: { rig: { name?: string }; instruments?: Record<string, unknown> }): string[] {
  const keys = [`rig ${config.rig.name ?? UNNAMED_RIG}`];
  for (const inst of Object.values(config.instruments ?? {})) {
    const i = (inst ?? {}) as Record<string, unknown>;
    if (i.impl === 'sim' || i.impl === undefined) continue;
    for (const field of ['address', 'path', 'device']) if (typeof i[field] === 'string' && i[field]) keys.push(`instrument ${String(i[field])}`);
    if (typeof i.host === 'string') keys.push(`instrument ${i.host}${i.port !== undefined ? `:${String(i.port)}` : ''}`);
  }
  return [...new Set(keys)];
}

function fileNameOf(key: string): string {
  return `${key.replace(/[^A-Za-z0-9._-]+/g, '_')}.lock`;
}

export class RigLock {
  private constructor(private readonly locks: ProcessLock[]) {}

  /** Takes every lock of `keys` or none; throws a LockHeldError naming the key and its holder. */
  static acquire(keys: string[], dir = defaultLockDir()): RigLock {
    mkdirSync(dir, { recursive: true });
    const held: ProcessLock[] = [];
    try {
      for (const key of keys) held.push(ProcessLock.acquireFile(join(dir, fileNameOf(key)), key));
    } catch (err) {
      for (const lock of held) lock.release();
      if (err instanceof LockHeldError) throw new LockHeldError(`${err.message.replace(/ \([^()]*\)$/, '')}: stop it first (lock files in ${dir})`, err.holder);
      throw err;
    }
    return new RigLock(held);
  }

  release(): void {
    for (const lock of this.locks.splice(0)) lock.release();
  }
}
