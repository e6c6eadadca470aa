/**
 * The API over the real engine + SQLite session store (virtual clock,
 * simulated test rig from test/daemon/engine): the adapter, the recording as the
 * source of truth for backfill, instrument ownership, and shutdown.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Subscriber } from 'zeromq';
import { engineTarget } from '../../../daemon/api/engine-target.js';
import { ErrorCode } from '../../../daemon/api/protocol.js';
import { ApiServer } from '../../../daemon/api/server.js';
import { RpcCallError, type LiveMessage } from '../../../daemon/api/client.js';
import { makeEngine, tmpDir } from '../engine/helpers.js';
import { client, EPHEMERAL } from './helpers.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function setup() {
  const tmp = tmpDir('qscope-api-');
  cleanup.push(tmp.cleanup);
  const rig = await makeEngine(tmp.dir);
  const server = new ApiServer(engineTarget(rig.engine, 'test'), { ...EPHEMERAL, lingerMs: 0, dataHighWaterMark: 16 });
  const endpoints = await server.start();
  cleanup.push(() => server.stop());
  const c = client(endpoints);
  cleanup.push(() => c.close());
  return { ...rig, server, endpoints, c };
}

describe('API over the engine', () => {
  it('a stuck subscriber neither slows nor loses anything: every frame is recorded, and a live client backfills from SQLite', async () => {
    const { engine, server, c, endpoints } = await setup();
    const stuck = new Subscriber({ linger: 0, receiveHighWaterMark: 1 });
    stuck.connect(endpoints.data);
    stuck.subscribe('session/');
    cleanup.push(() => stuck.close());
    const live = c.live({ backfill: true });
    const seen: LiveMessage[] = [];
    live.messages$.subscribe((m) => seen.push(m));
    await server.data.whenSubscribed('session/', 2);

    const started = await c.start('test-stream', { maxFrames: 400, stopAfter: 1000, exposureMs: 5 });
    expect(started).toMatchObject({ plan: 'test-stream', state: 'running' });
    const final = await engine.whenEnded(started.id);
    expect(final.state).toBe('completed');
    expect(final.frames).toBe(400);
    // Recorder completeness: every instrument frame and pipeline result is in the recording, seq 0..399.
    const recorded = engine.frames(started.id, 'cam0.frame', 0, 10_000, 10_000);
    expect(recorded.map((f) => f.header.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect(engine.frames(started.id, 'stream.mean', 0, 10_000, 10_000)).toHaveLength(400);

    // The live client saw a contiguous cam0.frame range (live + backfilled), byte-identical to the recording.
    while (!seen.some((m) => m.kind === 'status' && m.status.state === 'completed')) {
      server.data.publishStatus(final as never);
      await new Promise((r) => setImmediate(r));
    }
    await live.settled();
    const frames = seen.filter((m): m is Extract<LiveMessage, { kind: 'frame' }> => m.kind === 'frame' && m.stream === 'cam0.frame');
    const seqs = frames.map((f) => f.header.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
    for (const f of frames) {
      const r = recorded[f.header.seq]!;
      expect(Buffer.from(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength).equals(Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength))).toBe(true);
      expect(f.payload).toBeInstanceOf(Uint16Array);
    }
    const stats = live.stats().get(`${started.id}/cam0.frame`)!;
    expect(stats.backfilled).toBe(stats.missed);
    expect((await c.sessions()).map((s) => s.id)).toContain(started.id);
    const fetched = await c.frames(started.id, 'cam0.frame', 10, 19);
    expect(fetched.map((f) => f.header.shape)).toEqual(Array(10).fill([8, 8]));
  });

  it('owned instruments are refused, engine errors map to API codes, abort ends as aborted', async () => {
    const { engine, c, scanner } = await (async () => {
      const s = await setup();
      return { ...s, scanner: s.drivers.get('piezo0') as unknown as { moves: number } };
    })();
    const plans = await c.plans();
    expect(plans.map((p) => p.name)).toContain('test-raster');
    const plan = await c.describePlan('test-raster');
    expect(plan.schema).toMatchObject({ properties: { stepNm: { unit: 'nm', default: 50 } } });
    const bad = await c.start('test-raster', { nx: 0 }).catch((e: RpcCallError) => e);
    expect(bad).toBeInstanceOf(RpcCallError);
    expect((bad as RpcCallError).code).toBe(ErrorCode.INVALID_PARAMS);
    expect((bad as RpcCallError).data).toEqual({ errors: [{ path: 'params.nx', message: 'must be >= 1' }] });

    const s = await c.start('test-raster', { nx: 50, ny: 50 }, { sample: 'NV-1', operator: 'test' });
    const movesBefore = scanner.moves;
    const owned = await c.callInstrument('piezo0', 'moveTo', { xNm: 1, yNm: 2 }).catch((e: RpcCallError) => e);
    expect((owned as RpcCallError).code).toBe(ErrorCode.INSTRUMENT_OWNED);
    expect(await c.callInstrument('piezo0', 'position')).toEqual(expect.any(Array)); // read-only still allowed
    expect((await c.start('test-raster', {}).catch((e: RpcCallError) => e) as RpcCallError).code).toBe(ErrorCode.SESSION_RUNNING);
    expect((await c.status()).running).toBe(s.id);
    expect((await c.pause()).state).toBe('paused');
    expect((await c.resume(s.id).then((x) => x.state))).toBe('running');
    expect(((await c.resume().catch((e: RpcCallError) => e)) as RpcCallError).code).toBe(ErrorCode.INVALID_SESSION_STATE);
    const aborted = await c.abort();
    expect(aborted.state).toBe('aborted');
    expect(scanner.moves).toBeGreaterThanOrEqual(movesBefore);
    expect(((await c.abort().catch((e: RpcCallError) => e)) as RpcCallError).code).toBe(ErrorCode.NO_RUNNING_SESSION);
    expect((await c.session(s.id)).state).toBe('aborted');
    expect(((await c.call('sessions.frames', { id: s.id, stream: 'nope.x', fromSeq: 0, toSeq: 1 }).catch((e: RpcCallError) => e)) as RpcCallError).code).toBe(ErrorCode.UNKNOWN_STREAM);
    expect(engine.status().state).toBe('idle');
  });

  it('shutdown: the API stops, the engine aborts the running session (recorded as aborted)', async () => {
    const { engine, server, c } = await setup();
    const s = await c.start('test-raster', { nx: 50, ny: 50 });
    await server.stop();
    await engine.stop();
    expect(engine.session(s.id).state).toBe('aborted');
    const stored = engine.listSessions().find((x) => x.id === s.id)!;
    expect(stored.status).toBe('aborted');
  });
});
