/** The client CLI commands in-process against a live API server (MemoryTarget). */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Subject, firstValueFrom } from 'rxjs';
import { MemoryTarget } from '../../../daemon/api/memory-target.js';
import { createProgram } from '../../../daemon/cli.js';
import { privateEndpoints, startApi } from './helpers.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
  process.exitCode = undefined;
});

async function run(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    process.exitCode = undefined;
    await createProgram().exitOverride().parseAsync(['node', 'qscope', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = process.exitCode as number | undefined;
  process.exitCode = undefined;
  return { out, err, code };
}

describe('qscope daemon --control/--data', () => {
  it('refuses a non-loopback endpoint without CURVE before starting anything (exit 2)', async () => {
    const r = await run(['daemon', '--control', 'tcp://0.0.0.0:0', '--no-demo']);
    expect(r.err).toMatch(/^qscope daemon: refusing to start: api: refusing to bind tcp:\/\/0\.0\.0\.0:0 \(not loopback\) without CURVE/);
    expect(r.code).toBe(2);
  });
});

describe('qscope client commands', () => {
  it('status, instruments, start --no-wait, pause, resume, abort, start with a progress to the end', async () => {
    const { server, endpoints, target } = await startApi();
    cleanup.push(() => server.stop());
    const at = ['--control', endpoints.control, '--data', endpoints.data];

    const status = await run(['status', ...at]);
    expect(status.out).toMatch(/^qscope 0\.1\.0 at tcp:\/\/127\.0\.0\.1:\d+: idle\n  stage0 +scanner +ready/);
    expect(JSON.parse((await run(['status', ...at, '--json'])).out)).toMatchObject({ running: null });
    expect((await run(['instruments', ...at])).out).toMatch(/stage0 +scanner +memory +ready +commands: read, moveTo, where/);
    expect((await run(['instruments', 'stage0', ...at])).out).toMatch(/command moveTo \(mutating\): Moves to/);
    const missing = await run(['instruments', 'nope', ...at]);
    expect(missing.err).toMatch(/^qscope: instruments\.describe: no instrument 'nope' \(code -32010\)/);
    expect(missing.code).toBe(1);

    const started = await run(['start', 'stream', '--param', 'frames=10000000', '--param', 'chunk=8', '--sample', 'NV-9', '--no-wait', ...at]);
    expect(started.err).toBe('');
    const id = /session (\S+) started/.exec(started.out)![1]!;
    expect(target.sessionStatus(id)).toMatchObject({ state: 'running', meta: { sample: 'NV-9' } });
    expect((await run(['pause', ...at])).out).toBe(`session ${id}: paused\n`);
    expect((await run(['resume', id, ...at])).out).toBe(`session ${id}: running\n`);
    expect((await run(['abort', ...at])).out).toBe(`session ${id}: aborted\n`);
    const badParam = await run(['start', 'stream', '--param', 'frames=-3', '--no-wait', ...at]);
    expect(badParam.err).toMatch(/params\.frames: must be >= 1/);

    const followed = await run(['start', 'stream', '--param', 'frames=300', '--param', 'chunk=10', '--json', ...at]);
    expect(JSON.parse(followed.out)).toMatchObject({ state: 'completed', progress: { done: 300, total: 300 } });
  });

  it('start stops following with exit 1 when the daemon goes away mid-session, instead of waiting forever', async () => {
    /** Tells when the command's first status poll reaches the daemon: it is then following the session. */
    class PolledTarget extends MemoryTarget {
      readonly polled = new Subject<void>();
      override sessionStatus(id?: string) {
        this.polled.next();
        return super.sessionStatus(id);
      }
    }
    const target = new PolledTarget();
    // The server goes away while the CLI keeps asking: private endpoints, so no parallel test file's server
    // can be given the released port and answer in its place.
    const priv = privateEndpoints();
    cleanup.push(priv.remove);
    const { server, endpoints } = await startApi(priv.endpoints, target);
    let stopped = false;
    cleanup.push(() => (stopped ? undefined : server.stop()));
    const at = ['--control', endpoints.control, '--data', endpoints.data, '--timeout', '300'];
    const polled = firstValueFrom(target.polled);
    const following = run(['start', 'stream', '--param', 'frames=10000000', '--param', 'chunk=64', ...at]);
    await polled;
    await server.stop();
    stopped = true;
    await target.abortSession();
    const r = await following;
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/lost contact with the daemon \(3 status requests failed, last: .*\); session m\d+ may still be running/);
  });

  it('watch prints frames and the gap summary; keys generate writes a 0600 key file', async () => {
    const { server, endpoints, target } = await startApi();
    cleanup.push(() => server.stop());
    const at = ['--control', endpoints.control, '--data', endpoints.data];
    const watching = run(['watch', 'stage0.signal0', '-n', '5', ...at]);
    await server.data.whenSubscribed('session/');
    await target.startSession('stream', { frames: 1_000_000, chunk: 4 }); // not through run(): one stdout capture at a time
    const w = await watching;
    const lines = w.out.split('\n').filter((l) => l.includes('stage0.signal0'));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^m\d+ stage0\.signal0 seq=\d+ t=[\d.]+ms f64\[64\] min=/);
    expect(w.err).toMatch(/stage0\.signal0: received 5, missed 0/);
    await run(['abort', ...at]);

    const dir = mkdtempSync(join(tmpdir(), 'qscope-cli-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const keys = await run(['keys', 'generate', '--out', join(dir, 'lab')]);
    expect(keys.out).toMatch(/public key: .{40}\n$/);
    expect(statSync(join(dir, 'lab.key')).mode & 0o777).toBe(0o600);
    expect((await run(['keys', 'generate', '--out', join(dir, 'lab')])).err).toMatch(/exists; refusing to overwrite/);
  });
});
