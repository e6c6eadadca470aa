import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('qscope/native as a package', () => {
  // A script in a directory of its own, with qscope installed the way npm links it.
  const dir = mkdtempSync(join(tmpdir(), 'qscope-import-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'qscope'), 'dir');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the native addon through the package exports from a script outside test/', () => {
    const script = `
      import { randomMask } from 'qscope/native';
      const m = randomMask([8, 8], 0.25, 1);
      console.log(JSON.stringify({ type: m.constructor.name, n: m.length, k: m.reduce((a, b) => a + b, 0) }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ type: 'Uint8Array', n: 64, k: 16 });
  });

  it('exposes only the declared entry points', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('qscope/daemon/cli.js')"], { cwd: dir, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });
});
