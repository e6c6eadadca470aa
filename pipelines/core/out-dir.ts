/**
 * Output folders of the offline commands (`reconstruct`, `train`): never
 * written over by accident. A non-empty folder is refused unless `--force`;
 * a trained model goes to a new folder unless `--out` names one, so the
 * committed model is replaced only when asked.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Bad usage of an offline command (the CLI exits 2). */
export class UsageError extends Error {
  readonly code = 'USAGE';
  override readonly name = 'UsageError';
}

/** Throws a UsageError if `dir` exists and holds anything, unless `force`. */
export function checkOutDir(dir: string, force: boolean, flag = '--out'): void {
  if (!force && existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`${flag} ${dir}: directory is not empty (add --force to write into it)`);
}

/** `models/<name>-<UTC timestamp>`: where `train` writes when no `--out` is given. */
export function newModelDir(name: string, now: Date = new Date()): string {
  return join('models', `${name}-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}`);
}
