/**
 * The bridge link and the `impl: bridge` correlator against the Node test
 * bridge (test/support/test-bridge.mjs, written from docs/BRIDGE.md) over
 * real ZeroMQ sockets on ephemeral ports.
 */
import { filter, firstValueFrom, take, timeout } from 'rxjs';
import * as zmq from 'zeromq';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { BridgeLink } from '../../../drivers/core/bridge/link.js';
import { checkBridgeSettings } from '../../../drivers/core/bridge/settings.js';
import { BridgeHbt } from '../../../drivers/hbt/bridge.js';
import type { Driver } from '../../../drivers/core/driver.js';
// @ts-expect-error -- plain JS test support module
import { startTestBridge } from '../../support/test-bridge.mjs';

type TestBridge = { control: string; data: string; log: string[]; close(reason?: string): Promise<void>; drop(): void; publish(topic: string, header: unknown, payload: Buffer): Promise<void> };

const GEOMETRY = { bins: 5, binWidthNs: 2, zeroBin: 2, jitterNs: 0.04 };
function frames(n: number) {
  return Array.from({ length: n }, (_, i) => ({ dtype: 'u32', shape: [5], data: [i, i + 1, 0, 0, 7], fields: { integrationS: 1, binWidthNs: 2, zeroBin: 2, jitterNs: 0.04, counts: 100 + i, events: 2 * i + 8 } }));
}
const recording = (n = 4) => ({ instruments: [{ id: 'tagger0', kind: 'hbt', static: { geometry: GEOMETRY, temperature: { celsius: 31.5 } }, streams: { histogram: frames(n), countRate: [{ dtype: 'f64', shape: [1], data: [1234.5], fields: { counts: 1234.5, integrationS: 1 } }] } }] });

const open: (TestBridge | Driver | BridgeLink)[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) {
    if (x instanceof BridgeLink) await x.close();
    else if ('disconnect' in x) await x.disconnect();
    else await x.close();
  }
});

async function bridge(o: Record<string, unknown> = {}): Promise<TestBridge> {
  const b = (await startTestBridge({ recording: recording(), ...o })) as TestBridge;
  open.push(b);
  return b;
}
function hbt(endpoint: string, more: Record<string, unknown> = {}, clock = new VirtualClock()): BridgeHbt {
  const d = new BridgeHbt('hbt0', clock, { endpoint, heartbeatMs: 50, deadlineMs: 2000, ...more });
  open.push(d);
  return d;
}
const faulted = (d: Driver) => firstValueFrom(d.state$.pipe(filter((s) => s === 'fault'), take(1), timeout(10_000)));

describe('impl: bridge correlator', () => {
  it('hello, geometry, and histograms / count rates as the recording has them, on the virtual clock', async () => {
    const b = await bridge();
    const clock = new VirtualClock();
    const d = hbt(b.control, {}, clock);
    await d.connect();
    expect(d.state).toBe('ready');
    expect(d.geometry).toEqual(GEOMETRY);
    expect(d.remote).toMatchObject({ id: 'tagger0', kind: 'hbt' });
    const h = await d.histogram(1000);
    expect(Array.from(h.payload)).toEqual([0, 1, 0, 0, 7]);
    expect(h.fields).toEqual({ integrationS: 1, binWidthNs: 2, zeroBin: 2, jitterNs: 0.04, counts: 100, events: 8 });
    // The integration's experiment time passed on the clock, once the reply was in.
    expect(clock.now()).toBe(1000);
    expect(Array.from((await d.histogram(500)).payload)).toEqual([1, 2, 0, 0, 7]);
    expect(clock.now()).toBe(1500);
    const r = await d.countRate(1000);
    expect(Array.from(r.payload)).toEqual([1234.5]);
    expect(r.fields).toEqual({ counts: 1234.5, integrationS: 1 });
    await expect(d.histogram(0)).rejects.toThrow(/integrationMs: must be a finite number > 0/);
  });

  it('describe() shows the bridge, SDK and instrument; commands only the bridge declares are callable', async () => {
    const b = await bridge();
    const d = hbt(b.control);
    await d.connect();
    expect(d.describe()).toMatchObject({ kind: 'hbt', impl: 'bridge', state: 'ready', bridge: { name: 'test-bridge', protocol: 1, sdk: { name: 'none' }, instrument: { id: 'tagger0', model: 'recording', serial: 'test' } } });
    expect(Object.keys(d.commands).sort()).toEqual(['countRate', 'geometry', 'histogram', 'temperature']);
    expect(await d.call('temperature', {})).toEqual({ celsius: 31.5 });
    // The kind's own commands keep qscope's implementation (and its checks).
    await expect(d.call('histogram', { integrationMs: -1 })).rejects.toThrow(/integrationMs: must be a finite number > 0/);
  });

  it('a bridge with a protocol version qscope does not speak is refused with a clear error', async () => {
    const b = await bridge({ protocol: 2 });
    const d = hbt(b.control);
    await expect(d.connect()).rejects.toThrow(/hbt0: bridge at tcp:\/\/127\.0\.0\.1:\d+ speaks bridge protocol 2; this qscope speaks 1 \(docs\/BRIDGE.md\)/);
    expect(d.state).toBe('fault');
    expect(d.lastFault?.code).toBe('CONFIG');
    // A bridge that itself refuses qscope's versions: its PROTOCOL error is shown with ours.
    const b2 = await bridge({ refuse: true, protocol: 3 });
    const d2 = hbt(b2.control);
    await expect(d2.connect()).rejects.toThrow(/bridge hello: PROTOCOL: this bridge speaks protocol 3 only \(this qscope speaks bridge protocol 1/);
  });

  it('a reply after its deadline is dropped, never taken for the newer request', async () => {
    const b = await bridge({ deferFirst: true });
    const link = new BridgeLink({ endpoint: b.control, owner: 'hbt0', heartbeatMs: 50 });
    open.push(link);
    await link.open();
    // Request 1 is held by the bridge until request 2 arrives; qscope gives up on it first.
    await expect(link.request('histogram', { integrationMs: 1 }, { instrument: 'tagger0', deadlineMs: 30 })).rejects.toThrow(/hbt0: bridge histogram timed out after 30 ms/);
    // Request 2: the bridge now sends the late reply to 1 (frame 0) and then the reply to 2 (frame 1).
    const r2 = await link.request('histogram', { integrationMs: 1 }, { instrument: 'tagger0', deadlineMs: 5000 });
    expect(Array.from(r2.frame!.payload)).toEqual([1, 2, 0, 0, 7]);
    expect(r2.frame!.fields.counts).toBe(101);
    expect(link.lateReplies).toBe(1);
    expect(b.log.filter((m) => m === 'histogram')).toHaveLength(2);
  });

  it('a missed deadline puts the correlator in fault; reconnecting opens a new link and nothing is re-sent', async () => {
    const b = await bridge({ holdAt: { method: 'histogram', index: 0 } });
    const d = hbt(b.control, { deadlineMs: 30 });
    await d.connect();
    await expect(d.histogram(1)).rejects.toThrow(/timed out/);
    expect(d.state).toBe('fault');
    expect(d.lastFault?.code).toBe('TIMEOUT');
    const before = b.log.length;
    await d.connect();
    expect(d.state).toBe('ready');
    // Only the new hello and geometry went out: the held histogram was not sent again.
    expect(b.log.slice(before)).toEqual(['hello', 'geometry']);
  });

  it('clean loss: the bridge says bye, the instrument goes to fault with its reason and a pending request fails', async () => {
    const b = await bridge({ holdAt: { method: 'histogram', index: 0 } });
    const d = hbt(b.control, { heartbeatMs: 10_000 });
    await d.connect();
    const pending = d.histogram(1000);
    pending.catch(() => undefined);
    await b.close('operator closed the SDK');
    await expect(pending).rejects.toThrow(/hbt0: bridge closed: operator closed the SDK/);
    expect(d.state).toBe('fault');
    expect(d.lastFault).toMatchObject({ code: 'DISCONNECTED', disconnected: true });
  });

  it('unclean loss: a bridge that stops answering heartbeats is declared lost', async () => {
    const b = await bridge({ silent: true });
    const d = hbt(b.control, { heartbeatMs: 20 });
    const f = faulted(d);
    await d.connect();
    await f;
    expect(d.lastFault?.message).toMatch(/hbt0: bridge at tcp:\/\/127\.0\.0\.1:\d+ silent for \d+ ms \(3 heartbeats missed\)/);
  });

  it('unclean loss: sockets closed without bye (a killed process) → fault', async () => {
    const b = await bridge();
    const d = hbt(b.control, { heartbeatMs: 50 });
    await d.connect();
    const f = faulted(d);
    b.drop();
    await f;
    expect(d.lastFault?.message).toMatch(/connection to the bridge at .* lost|silent for/);
    await expect(d.histogram(10)).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });

  it('the bridge instrument must exist and have the kind asked for', async () => {
    const b = await bridge();
    await expect(hbt(b.control, { instrument: 'cam9' }).connect()).rejects.toThrow(/bridge test-bridge has no instrument 'cam9' \(it has: tagger0 \(hbt\)\)/);
  });

  it('streamed frames arrive decoded on the SUB side', async () => {
    const b = await bridge();
    const link = new BridgeLink({ endpoint: b.control, owner: 'cam0', heartbeatMs: 1000 });
    open.push(link);
    await link.open();
    link.subscribe('cam0/frame');
    const got = firstValueFrom(link.frames$.pipe(timeout(10_000)));
    // PUB/SUB joins asynchronously: publish until the subscriber has one.
    let done = false;
    void got.then(() => (done = true));
    for (let i = 0; !done && i < 200; i++) {
      await b.publish('cam0/frame', { stream: 'cam0.frame', seq: i, t: 5, dtype: 'f32', shape: [1, 2, 1], exposureMs: 3 }, Buffer.from(new Float32Array([1.5, -2]).buffer));
      await new Promise((r) => setTimeout(r, 10));
    }
    const f = await got;
    expect(Array.from(f.payload)).toEqual([1.5, -2]);
    expect(f.shape).toEqual([1, 2, 1]);
    expect(f.fields).toEqual({ exposureMs: 3 });
  });

  it('CURVE: a client with an allowed key talks to the bridge; another key never gets through the handshake', async () => {
    const server = zmq.curveKeyPair();
    const client = zmq.curveKeyPair();
    const stranger = zmq.curveKeyPair();
    const b = await bridge({ curve: { secretKey: server.secretKey, allow: [client.publicKey] } });
    const d = hbt(b.control, { curve: { serverKey: server.publicKey, publicKey: client.publicKey, secretKey: client.secretKey } });
    await d.connect();
    expect(Array.from((await d.histogram(10)).payload)).toEqual([0, 1, 0, 0, 7]);
    const other = hbt(b.control, { curve: { serverKey: server.publicKey, publicKey: stranger.publicKey, secretKey: stranger.secretKey } });
    await expect(other.connect()).rejects.toThrow(/hbt0: bridge at tcp:\/\/127\.0\.0\.1:\d+ refused the CURVE handshake \(status 400\): is this client's public key on the bridge's allow-list\?/);
    expect(other.lastFault?.code).toBe('CONFIG');
    expect(b.log.filter((m) => m === 'hello')).toHaveLength(1);
  });

  it('config: a bridge on another host needs CURVE keys', () => {
    expect(checkBridgeSettings({ kind: 'hbt', impl: 'bridge', endpoint: 'tcp://10.0.0.5:5600' })).toEqual([{ path: ['endpoint'], message: 'tcp://10.0.0.5:5600 is not on this host: a remote bridge needs curve keys (serverKey, publicKey, secretKey)' }]);
    expect(checkBridgeSettings({ kind: 'hbt', impl: 'bridge', endpoint: 'tcp://127.0.0.1:5600' })).toEqual([]);
  });
});
