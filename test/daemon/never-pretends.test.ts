/**
 * A daemon that cannot serve never says it is ready: a taken API port stops
 * it with an error naming the address, after disconnecting what it had
 * connected; a second daemon (or `qscope run`) on a locked rig is refused,
 * naming the process that holds the rig; a dead holder's lock is free.
 * Ports are ephemeral or taken by the test itself.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as zmq from 'zeromq';
import { VirtualClock } from '../../drivers/core/clock.js';
import { createLogger } from '../../drivers/core/log.js';
import { ApiService } from '../../daemon/api/service.js';
import { Daemon, DaemonStartError } from '../../daemon/daemon.js';
import { EngineService } from '../../daemon/engine/service.js';
import { RigLock, rigLockKeys } from '../../daemon/rig-lock.js';
import { LockHeldError } from '../../daemon/store/lock.js';
import { TEST_INSTRUMENTS, testDriverRegistry, testPipelines, testPlans } from './engine/doubles.js';
import { CliProcess, configFile, removeTempDirs, root, tempDir } from './helpers.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});
afterAll(removeTempDirs);

/** A ROUTER bound by the test on an ephemeral port: that address is taken. */
async function takenAddress(): Promise<string> {
  const sock = new zmq.Router({ linger: 0 });
  await sock.bind('tcp://127.0.0.1:0');
  cleanup.push(() => sock.close());
  return sock.lastEndpoint!;
}

function daemonOn(lockDir: string, opts: { rigName?: string; control?: string; instruments?: Record<string, unknown> } = {}) {
  const sessions = tempDir('qscope-np-sessions-');
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    daemon: new Daemon({
      config: {
        rig: { name: opts.rigName ?? 'bench-rig', seed: 7, clock: 'virtual', speed: 1 } as never,
        log: { level: 'info' },
        instruments: (opts.instruments ?? TEST_INSTRUMENTS) as never,
        scene: {},
        sessions: { dir: sessions, minFreeMiB: 0 },
        api: { control: opts.control ?? 'tcp://127.0.0.1:0', data: 'tcp://127.0.0.1:0', lingerMs: 100 },
      },
      log: createLogger({ destination: { write: (s: string) => void lines.push(JSON.parse(s)) } }),
      clock: new VirtualClock(),
      registry: testDriverRegistry(),
      services: [new EngineService({ plans: testPlans(), pipelines: testPipelines() }), new ApiService()],
      runDemo: false,
      lockDir,
    }),
  };
}

describe('a daemon that never pretends', () => {
  it('a taken API port: start rejects naming the address, never logs ready, leaves no instrument connected', async () => {
    const lockDir = tempDir('qscope-np-locks-');
    const taken = await takenAddress();
    const { daemon, lines } = daemonOn(lockDir, { control: taken });
    const err = await daemon.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DaemonStartError);
    expect((err as Error).message).toContain(taken);
    expect((err as Error).message).toMatch(/service api failed to start: api: cannot bind the control socket to tcp:\/\/127\.0\.0\.1:\d+/);
    expect(lines.some((l) => l.msg === 'qscope daemon ready')).toBe(false);
    expect(daemon.drivers.size).toBeGreaterThan(0);
    expect([...daemon.drivers.values()].every((d) => d.state === 'disconnected')).toBe(true);
    // ... and the rig lock went with it: a daemon on a free port starts on the same rig.
    const next = daemonOn(lockDir).daemon;
    await next.start();
    await next.stop();
  });

  it('a second daemon on a locked rig is refused, naming the holding process, before connecting anything', async () => {
    const lockDir = tempDir('qscope-np-locks-');
    const first = daemonOn(lockDir).daemon;
    await first.start();
    cleanup.push(() => first.stop());
    const second = daemonOn(lockDir).daemon;
    const err = await second.start().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(DaemonStartError);
    expect(err!.message).toMatch(new RegExp(`rig bench-rig is held by pid ${process.pid} \\(`));
    expect(second.drivers.size).toBe(0);
    // A different rig is independent; the same rig is free once the first daemon stopped.
    const other = daemonOn(lockDir, { rigName: 'other-rig' }).daemon;
    await other.start();
    await other.stop();
    await first.stop();
    const third = daemonOn(lockDir).daemon;
    await third.start();
    await third.stop();
  });

  it('two rigs naming one instrument address collide on the instrument', () => {
    const lockDir = tempDir('qscope-np-locks-');
    const a = rigLockKeys({ rig: { name: 'a' }, instruments: { stage: { kind: 'piezo', impl: 'gcs', host: '10.0.0.5', port: 50000 } } });
    const b = rigLockKeys({ rig: { name: 'b' }, instruments: { xy: { kind: 'piezo', impl: 'gcs', host: '10.0.0.5', port: 50000 }, s: { kind: 'hbt', impl: 'sim' } } });
    expect(a).toEqual(['rig a', 'instrument 10.0.0.5:50000']);
    expect(b).toEqual(['rig b', 'instrument 10.0.0.5:50000']);
    const held = RigLock.acquire(a, lockDir);
    expect(() => RigLock.acquire(b, lockDir)).toThrow(/instrument 10\.0\.0\.5:50000 is held by pid/);
    // All or nothing: the refused attempt left `rig b` free.
    RigLock.acquire(['rig b'], lockDir).release();
    held.release();
    RigLock.acquire(b, lockDir).release();
  });

  it('is stale-lock safe: the lock of a SIGKILLed holder is free again', async () => {
    const lockDir = mkdtempSync(join(tmpdir(), 'qscope-np-stale-'));
    const script = `import { RigLock } from ${JSON.stringify(join(root, 'dist', 'daemon', 'rig-lock.js'))};
RigLock.acquire(['rig stale'], ${JSON.stringify(lockDir)}); console.log('held'); setInterval(() => {}, 1e9);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    cleanup.push(() => void child.kill('SIGKILL'));
    await new Promise<void>((resolve) => createInterface({ input: child.stdout }).on('line', (l) => l === 'held' && resolve()));
    expect(() => RigLock.acquire(['rig stale'], lockDir)).toThrow(LockHeldError);
    expect(() => RigLock.acquire(['rig stale'], lockDir)).toThrow(new RegExp(`pid ${child.pid} `));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    RigLock.acquire(['rig stale'], lockDir).release();
  });
});

describe('the daemon and run commands', () => {
  it('`qscope daemon` with its control port taken exits non-zero naming the address, drivers disconnected', async () => {
    const taken = await takenAddress();
    const p = new CliProcess(['daemon', '--config', configFile(), '--no-demo', '--control', taken, '--data', 'tcp://127.0.0.1:0']);
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr.join('')).toContain(`cannot bind the control socket to ${taken}`);
    expect(p.lines.some((l) => l.msg === 'qscope daemon ready')).toBe(false);
    expect(p.lines.some((l) => /drivers disconnected \((\d+)\/\1\)/.test(l.msg))).toBe(true);
  });

  it('`qscope run` on the rig a running daemon holds is refused, naming the daemon process', async () => {
    const lockDir = tempDir('qscope-np-cli-locks-');
    const env = { ...process.env, QSCOPE_LOCK_DIR: lockDir };
    const cfg = configFile();
    const d = new CliProcess(['daemon', '--config', cfg, '--no-demo', '--control', 'tcp://127.0.0.1:0', '--data', 'tcp://127.0.0.1:0'], undefined, env);
    cleanup.push(() => void d.child.kill('SIGKILL'));
    await d.waitForMsg(/^qscope daemon ready$/);
    const run = new CliProcess(['run', 'antibunching-scan', '--config', cfg, '--virtual', '-p', 'nx=2', '-p', 'ny=2'], undefined, env);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr.join('')).toMatch(new RegExp(`qscope run: refusing to start: rig simulated-rig is held by pid ${d.child.pid} \\(.*daemon --config`));
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });
});
