/**
 * `qscope emulate` and `qscope instruments probe`, as a user runs them (the
 * built CLI): the emulator prints its address, probe identifies what answers
 * there, a bad address is a usage error (exit 2).
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../../dist/daemon/cli.js');
const run = promisify(execFile);
const children: { kill(): boolean }[] = [];
afterEach(() => {
  while (children.length) children.pop()!.kill();
});

/** Starts `qscope emulate ARGS` and resolves with the addresses it prints. */
function emulate(args: string[], lines: number): Promise<string[]> {
  const p = spawn(process.execPath, [CLI, 'emulate', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(p);
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const found = [...out.matchAll(/address (\S+)\n/g)].map((m) => m[1]!);
      if (found.length >= lines) resolve(found);
    });
    p.once('exit', (code) => reject(new Error(`emulate exited ${code}: ${out}`)));
  });
}

describe('qscope emulate + instruments probe', () => {
  it('probe identifies the emulated PI controller over TCP and the SR830 over its pty (CR replies)', async () => {
    const [tcp] = await emulate(['pi-gcs', '--port', '0'], 1);
    expect(tcp).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const a = await run(process.execPath, [CLI, 'instruments', 'probe', tcp!, '--json']);
    expect(JSON.parse(a.stdout)).toMatchObject({ address: tcp, identity: expect.stringMatching(/Physik Instrumente.*E-727/), ports: expect.any(Array) });
    const [, pty] = await emulate(['sr830', '--pty'], 2);
    const b = await run(process.execPath, [CLI, 'instruments', 'probe', pty!, '--eol', 'cr']);
    expect(b.stdout).toContain(`${pty}: Stanford_Research_Systems,SR830`);
  });

  it('a malformed address is a usage error naming the expected forms', async () => {
    const err = await run(process.execPath, [CLI, 'instruments', 'probe', 'COM3']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2, stderr: expect.stringContaining("address 'COM3': expected tcp://HOST:PORT or serial:/dev/PATH") });
  });
});
