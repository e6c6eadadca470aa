/**
 * The daemon as a process: starts on a rig config, logs `ready`, survives an
 * instrument fault, and on SIGTERM disconnects its drivers and exits 0.
 * Waits are on log lines (events), never on wall-clock time.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CliProcess, configFile, defaultConfig, removeTempDirs } from './helpers.js';

// The default rig grows as experiments add instruments: expectations follow the file.
const instrumentIds = Object.keys((parse(readFileSync(defaultConfig, 'utf8')) as { instruments: object }).instruments);
const allDisconnected = new RegExp(`drivers disconnected \\(${instrumentIds.length}/${instrumentIds.length}\\)`);

const running: CliProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});
afterAll(removeTempDirs);
/** Ephemeral API ports: the default config's 5555/5556 may be taken, and a daemon that cannot bind exits (decision 1200). */
function start(args: string[]): CliProcess {
  const p = new CliProcess([...args, '--control', 'tcp://127.0.0.1:0', '--data', 'tcp://127.0.0.1:0', '--web', '127.0.0.1:0']);
  running.push(p);
  return p;
}

describe('qscope daemon process', () => {
  it('comes up on the default rig, logs ready, and exits 0 on SIGTERM with its drivers disconnected', async () => {
    const p = start(['daemon', '--config', defaultConfig]);
    const ready = await p.waitForMsg(/^qscope daemon ready$/);
    expect(ready.drivers).toEqual(instrumentIds.map((id) => `${id}:ready`));
    // npm start's demo: the antibunching-scan plan starts (it runs on in the background).
    await p.waitForMsg(/demo: running plan 'antibunching-scan' once/);
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(0);
    const done = p.lines.find((l) => /drivers disconnected/.test(l.msg));
    expect(done?.drivers).toEqual(instrumentIds);
    expect(p.lines.some((l) => l.owner === 'piezo0' && l.state === 'disconnected')).toBe(true);
    expect(p.lines.at(-1)!.msg).toBe('qscope daemon stopped');
  });

  it('SIGINT stops it the same way', async () => {
    const p = start(['daemon', '--config', defaultConfig, '--no-demo']);
    await p.waitForMsg(/^qscope daemon ready$/);
    p.child.kill('SIGINT');
    expect((await p.exited).code).toBe(0);
    expect(p.lines.some((l) => allDisconnected.test(l.msg))).toBe(true);
  });

  it('an injected piezo fault is logged as a typed fault and the daemon keeps running', async () => {
    const file = configFile((y) => y.replace('# faults: {disconnectAtMs: 5000}', 'faults: {disconnectAtMs: 20}'));
    const p = start(['daemon', '--config', file, '--speed', '100', '--no-demo']);
    await p.waitForMsg(/^qscope daemon ready$/);
    const fault = await p.waitFor((l) => l.owner === 'piezo0' && l.state === 'fault');
    expect(fault.code).toBe('DISCONNECTED');
    expect(String(fault.err)).toMatch(/fault injected at 20 ms/);
    expect(p.child.exitCode).toBeNull();
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    expect(p.lines.some((l) => allDisconnected.test(l.msg))).toBe(true);
  });
});
