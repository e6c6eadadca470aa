/** Every example rig config in config/examples/ passes `qscope config check` (the CLI, as a user runs it). */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'config', 'examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('config/examples', () => {
  it('holds the real-rig examples', () => {
    expect(files).toEqual(expect.arrayContaining(['kerr-microscope.yaml', 'nv-confocal.yaml']));
  });
  for (const f of files) {
    it(`${f} passes qscope config check`, async () => {
      const { stdout } = await promisify(execFile)('node', [join(root, 'dist', 'daemon', 'cli.js'), 'config', 'check', join(dir, f)]);
      expect(stdout).toMatch(new RegExp(`${f}: ok \\(\\d+ instruments?: `));
    });
  }
});

describe('config check of a bridged instrument', () => {
  it('refuses a bridge on another host without CURVE keys (exit 1, path: message)', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'qscope-cfg-'));
    try {
      const f = join(tmp, 'remote.yaml');
      writeFileSync(f, 'rig: {seed: 1}\ninstruments:\n  cam0: {kind: camera, impl: bridge, endpoint: "tcp://10.1.2.3:5610"}\n');
      const err = await promisify(execFile)('node', [join(root, 'dist', 'daemon', 'cli.js'), 'config', 'check', f]).catch((e) => e);
      expect(err.code).toBe(1);
      expect(err.stderr).toMatch(/instruments\.cam0\.endpoint: tcp:\/\/10\.1\.2\.3:5610 is not on this host: a remote bridge needs curve keys/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
