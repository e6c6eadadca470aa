/** The built `qscope` command, spawned as a user would run it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configFile, removeTempDirs, root, runCli } from './helpers.js';

describe('qscope CLI', () => {
  afterAll(removeTempDirs);
  it('--version prints the package version', () => {
    const r = runCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('--help lists the commands', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: qscope/);
    expect(r.stdout).toMatch(/\bdaemon\b/);
    expect(r.stdout).toMatch(/\bconfig\b/);
    const d = runCli(['daemon', '--help']);
    expect(d.stdout).toMatch(/--config <file>/);
    expect(d.stdout).toMatch(/--speed <n>/);
  });

  it('config check config/default.yaml exits 0', () => {
    const r = runCli(['config', 'check', 'config/default.yaml']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/config\/default.yaml: ok \(\d+ instruments?: piezo0\b/);
  });

  it('config check on a negative range exits non-zero and names the key', () => {
    const file = configFile((y) => y.replace('rangeUm: [100, 100, 100]', 'rangeUm: [100, 100, -5]'));
    const r = runCli(['config', 'check', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}: instruments.piezo0.rangeUm[2]: must be > 0`);
  });

  it('the daemon refuses to start on an invalid config', () => {
    const file = configFile((y) => y.replace('seed: 1', 'sede: 1'));
    const r = runCli(['daemon', '--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to start/);
    expect(r.stderr).toContain("rig.sede: unknown key (did you mean 'seed'?)");
    expect(r.stdout).not.toMatch(/ready/);
  });

  it('rejects a bad --speed by name', () => {
    const r = runCli(['daemon', '--speed', '-3']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--speed <n>.*must be a number > 0/);
  });
});
