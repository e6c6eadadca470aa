/**
 * The per-browser Sender: newest item per stream, drops counted, at most maxFps flushes a second, nothing beyond
 * the acknowledgement window or a full socket buffer. Fake timers and a fake socket: no wall-clock waits.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { decodeMessage } from '../../../daemon/web/codec.js';
import { Sender } from '../../../daemon/web/sender.js';

class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: Array<{ meta: Record<string, unknown>; payload: Uint8Array }> = [];
  send(buf: Buffer): void {
    this.sent.push(decodeMessage(buf));
  }
}

let ws: FakeSocket;
beforeEach(() => {
  vi.useFakeTimers();
  ws = new FakeSocket();
});
afterEach(() => vi.useRealTimers());

const sender = (opts: Partial<{ maxFps: number; window: number; maxBufferedBytes: number }> = {}) =>
  new Sender(ws as unknown as WebSocket, { maxFps: 10, window: 100, maxBufferedBytes: 1 << 20, ...opts });
const frame = (stream: string, seq: number) => ({ k: 'frame', session: 'S', header: { stream, seq } });

describe('Sender', () => {
  it('sends the newest item per stream and counts the ones it replaced', async () => {
    const s = sender();
    for (let seq = 0; seq < 5; seq++) {
      s.offer('S/a', frame('a', seq), Float64Array.of(seq));
      s.offer('S/b', frame('b', seq));
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.sent.map((m) => (m.meta.header as { stream: string; seq: number }).seq)).toEqual([4, 4]);
    expect(new Float64Array(Uint8Array.from(ws.sent[0]!.payload).buffer)[0]).toBe(4);
    expect(s.stats).toMatchObject({ sent: 2, dropped: 8, pending: 0 });
  });

  it('flushes at most maxFps times a second', async () => {
    const s = sender({ maxFps: 10 });
    let seq = 0;
    // 100 frames of one stream, one every 10 ms: a flush every 100 ms sends the newest.
    for (let i = 0; i < 100; i++) {
      s.offer('S/a', frame('a', seq++));
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(ws.sent.length).toBeGreaterThanOrEqual(10);
    expect(ws.sent.length).toBeLessThanOrEqual(11);
    expect(s.stats.sent + s.stats.dropped + s.stats.pending).toBe(100);
  });

  it('stops at the acknowledgement window and resumes on ack; a stalled browser costs one entry per stream', async () => {
    const s = sender({ window: 3, maxFps: 1000 });
    for (let i = 0; i < 50; i++) {
      for (const st of ['a', 'b', 'c', 'd']) s.offer(`S/${st}`, frame(st, i));
      await vi.advanceTimersByTimeAsync(5);
    }
    expect(s.stats).toMatchObject({ sent: 3, unacked: 3, pending: 4 });
    expect(s.stats.dropped).toBe(200 - 3 - 4);
    s.ack(3);
    await vi.advanceTimersByTimeAsync(5);
    expect(s.stats.sent).toBe(6);
    s.ack(99); // more than was sent: ignored
    s.ack(2); // going back: ignored
    expect(s.stats.unacked).toBe(3);
  });

  it('holds while the socket buffer is over the limit and sends once it drains', async () => {
    const s = sender({ maxBufferedBytes: 1000, maxFps: 100 });
    ws.bufferedAmount = 5000;
    s.offer('S/a', frame('a', 0));
    s.offer('S/a', frame('a', 1));
    await vi.advanceTimersByTimeAsync(100);
    expect(ws.sent).toHaveLength(0);
    ws.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(20);
    expect(ws.sent.map((m) => (m.meta.header as { seq: number }).seq)).toEqual([1]);
    s.close();
    s.offer('S/a', frame('a', 2));
    await vi.advanceTimersByTimeAsync(100);
    expect(ws.sent).toHaveLength(1);
  });
});
