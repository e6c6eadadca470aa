/**
 * The API as a daemon service in the composition root: it finds the engine,
 * binds the configured endpoints, and on stop the running session ends as
 * `aborted` (flushed to the store), the sockets close, the drivers disconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { ApiService } from '../../../daemon/api/service.js';
import { Daemon } from '../../../daemon/daemon.js';
import { EngineService } from '../../../daemon/engine/service.js';
import { createLogger } from '../../../drivers/core/log.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { TEST_INSTRUMENTS, testDriverRegistry, testPipelines, testPlans } from '../engine/doubles.js';
import { tmpDir } from '../engine/helpers.js';
import { client, EPHEMERAL } from './helpers.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('API service in the daemon', () => {
  it('serves the engine, and graceful shutdown aborts the running session, closes sockets, disconnects drivers', async () => {
    const tmp = tmpDir('qscope-daemon-api-');
    cleanup.push(tmp.cleanup);
    const api = new ApiService();
    const daemon = new Daemon({
      config: {
        rig: { seed: 7, clock: 'virtual', speed: 1 } as never,
        log: { level: 'silent' },
        instruments: TEST_INSTRUMENTS,
        scene: {},
        sessions: { dir: tmp.dir, minFreeMiB: 0 },
        api: { ...EPHEMERAL, lingerMs: 100 },
      },
      log: createLogger({ level: 'silent' }),
      clock: new VirtualClock(),
      registry: testDriverRegistry(),
      services: [new EngineService({ plans: testPlans(), pipelines: testPipelines() }), api],
      runDemo: false,
    });
    await daemon.start();
    cleanup.push(() => daemon.stop());
    expect(api.server).toBeDefined();
    const c = client(api.server!.endpoints, { timeoutMs: 2000 });
    cleanup.push(() => c.close());
    expect((await c.instruments()).map((i) => i.id)).toEqual(Object.keys(TEST_INSTRUMENTS));
    const s = await c.start('test-raster', { nx: 40, ny: 40 });
    expect((await c.session()).state).toBe('running');
    const control = api.server!.control.socket;
    const data = api.server!.data.socket;

    await daemon.stop('SIGTERM');
    expect(control.closed).toBe(true);
    expect(data.closed).toBe(true);
    const stored = new SessionStore(tmp.dir).list().find((x) => x.id === s.id)!;
    expect(stored.status).toBe('aborted');
    expect(stored.frames).toBeGreaterThan(0);
    expect([...daemon.drivers.values()].every((d) => d.state === 'disconnected')).toBe(true);
  });
});
