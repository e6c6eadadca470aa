import { afterEach, describe, expect, it } from 'vitest';
import { Subscriber } from 'zeromq';
import type { LiveMessage } from '../../../daemon/api/client.js';
import { client, startApi } from './helpers.js';

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('data socket', () => {
  it('publishes [topic, header JSON, payload] and status snapshots', async () => {
    const { server, target, endpoints } = await startApi();
    cleanup.push(() => server.stop());
    const sub = new Subscriber({ linger: 0 });
    sub.connect(endpoints.data);
    sub.subscribe('session/');
    cleanup.push(() => sub.close());
    await server.data.whenSubscribed('session/');
    const c = client(endpoints);
    cleanup.push(() => c.close());
    const s = await c.start('stream', { frames: 3, values: 200, chunk: 1 });
    const got: Buffer[][] = [];
    for await (const msg of sub) {
      got.push(msg);
      if (msg[0]!.toString() === `session/${s.id}/@status` && JSON.parse(msg[1]!.toString()).state === 'completed') break;
    }
    const frames = got.filter((m) => !m[0]!.toString().endsWith('@status'));
    expect(frames.map((m) => m[0]!.toString())).toEqual(Array(3).fill(`session/${s.id}/stage0.signal0`));
    for (const [i, m] of frames.entries()) {
      expect(m).toHaveLength(3);
      const header = JSON.parse(m[1]!.toString());
      expect(header).toMatchObject({ stream: 'stage0.signal0', seq: i, dtype: 'f64', shape: [200] });
      const payload = new Float64Array(new Uint8Array(m[2]!).buffer);
      expect(payload).toEqual(target.recorded(s.id, 'stage0.signal0')[i]!.payload);
    }
    const states = got.filter((m) => m[0]!.toString().endsWith('@status')).map((m) => JSON.parse(m[1]!.toString()).state);
    expect(states[0]).toBe('running');
    expect(states.at(-1)).toBe('completed');
    expect(got.filter((m) => m[0]!.toString().endsWith('@status')).every((m) => m[2]!.length === 0)).toBe(true);
  });

  it('the client counts per-stream seq gaps and backfills them from the recording', async () => {
    // A tiny send HWM and receive HWM with bursts of large frames force PUB to drop.
    const { server, target, endpoints } = await startApi({ dataHighWaterMark: 4 });
    cleanup.push(() => server.stop());
    const c = client(endpoints);
    cleanup.push(() => c.close());
    const live = c.live({ backfill: true, receiveHighWaterMark: 4 });
    const messages: LiveMessage[] = [];
    live.messages$.subscribe((m) => messages.push(m));
    await server.data.whenSubscribed('session/');
    // Each burst (200 frames × 128 KiB) exceeds what the loopback TCP buffers (≈10 MB at most) and both HWMs can
    // hold while this process is busy sending, so PUB must drop whatever the machine's load.
    const s = await c.start('stream', { frames: 400, streams: 2, values: 16384, chunk: 200 });
    const final = await target.whenDone(s.id);
    // PUB may have dropped the final status too: re-publish it until it arrives (the pipe drains once the
    // session is over), so we know every frame that will ever arrive has arrived. Then wait for the backfills.
    const completed = () => messages.some((m) => m.kind === 'status' && m.status.state === 'completed');
    while (!completed()) {
      server.data.publishStatus(final);
      await new Promise((r) => setImmediate(r));
    }
    await live.settled();
    expect(live.backfillErrors).toEqual([]);
    const totals = live.totals();
    expect(totals.missed).toBeGreaterThan(0);
    expect(totals.backfilled).toBe(totals.missed);
    for (const k of [0, 1]) {
      const stream = `stage0.signal${k}`;
      const stats = live.stats().get(`${s.id}/${stream}`)!;
      const frames = messages.filter((m): m is Extract<LiveMessage, { kind: 'frame' }> => m.kind === 'frame' && m.stream === stream);
      const seqs = frames.map((f) => f.header.seq).sort((a, b) => a - b);
      const first = seqs[0]!;
      // Everything between the first and the last frame seen, exactly once: live or backfilled.
      expect(seqs).toEqual(Array.from({ length: stats.lastSeq - first + 1 }, (_, i) => first + i));
      expect(stats.received + stats.missed).toBe(stats.lastSeq - first + 1);
      const recorded = target.recorded(s.id, stream);
      // Byte comparison (vitest's deep equality on large typed arrays is slow).
      const mismatched = frames.filter((f) => !bytesOf(f.payload).equals(bytesOf(recorded[f.header.seq]!.payload)));
      expect(mismatched).toEqual([]);
    }
    live.close();
  });

  it('a subscriber that never reads does not slow the acquisition: the recording is complete', async () => {
    const { server, target, endpoints } = await startApi({ dataHighWaterMark: 8, dataQueueCapacity: 64 });
    cleanup.push(() => server.stop());
    const stuck = new Subscriber({ linger: 0, receiveHighWaterMark: 1 });
    stuck.connect(endpoints.data);
    stuck.subscribe('session/');
    cleanup.push(() => stuck.close());
    await server.data.whenSubscribed('session/');
    const c = client(endpoints);
    cleanup.push(() => c.close());
    const frames = 3000;
    const s = await c.start('stream', { frames, values: 1024, chunk: 100 });
    const end = await target.whenDone(s.id);
    expect(end.state).toBe('completed');
    expect(end.progress).toEqual({ done: frames, total: frames });
    const rec = target.recorded(s.id, 'stage0.signal0');
    expect(rec.map((f) => f.header.seq)).toEqual(Array.from({ length: frames }, (_, i) => i));
    // The daemon side stayed bounded: whatever PUB could not take was dropped, never queued without limit.
    expect(server.data.stats.queued).toBeLessThanOrEqual(64);
    const { sent, dropped } = server.data.stats;
    expect(sent + dropped + server.data.stats.queued).toBeGreaterThanOrEqual(frames);
    // And control requests are still answered while the subscriber is stuck.
    expect((await c.session(s.id)).state).toBe('completed');
  });
});

describe('data socket robustness', () => {
  it('a frame whose header cannot be serialised is skipped and logged; later frames still go out', async () => {
    const { Subject } = await import('rxjs');
    const { makeFrame } = await import('../../../drivers/core/frame.js');
    const { ApiServer } = await import('../../../daemon/api/server.js');
    const { MemoryTarget } = await import('../../../daemon/api/memory-target.js');
    const frames$ = new Subject<{ session: string; frame: ReturnType<typeof makeFrame> }>();
    const target = Object.assign(new MemoryTarget(), { frames$ });
    const logs: string[] = [];
    const server = new ApiServer(target, { control: 'tcp://127.0.0.1:0', data: 'tcp://127.0.0.1:0', lingerMs: 0 }, (_l, msg) => logs.push(msg));
    const ep = await server.start();
    cleanup.push(() => server.stop());
    const sub = new Subscriber({ linger: 0 });
    sub.connect(ep.data);
    sub.subscribe('session/');
    cleanup.push(() => sub.close());
    await server.data.whenSubscribed('session/');
    frames$.next({ session: 'S', frame: makeFrame('a.b', 0, 0, new Float64Array(2), [2], { big: 1n }) });
    frames$.next({ session: 'S', frame: makeFrame('a.b', 1, 0, new Float64Array(2)) });
    const [topic, header] = await sub.receive();
    expect(topic!.toString()).toBe('session/S/a.b');
    expect(JSON.parse(header!.toString()).seq).toBe(1);
    expect(server.data.unpublishable).toBe(1);
    expect(logs).toContain('data: a.b not published');
  });
});
