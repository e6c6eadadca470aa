import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/api/protocol.js';
import { RpcCallError, RpcTimeoutError, type QscopeClient } from '../../../daemon/api/client.js';
import type { ApiServer } from '../../../daemon/api/server.js';
import { client, dealerRoundTrip, json, privateEndpoints, reqRoundTrip, startApi } from './helpers.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function setup() {
  const api = await startApi();
  const c = client(api.endpoints);
  cleanup.push(() => api.server.stop(), () => c.close());
  return { ...api, c };
}

async function rpcError(p: Promise<unknown>): Promise<RpcCallError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RpcCallError);
  return err as RpcCallError;
}

describe('control socket: every method', () => {
  it('daemon.status, instruments.*, plans.*', async () => {
    const { c, target } = await setup();
    expect(await c.status()).toMatchObject({ version: '0.1.0', running: null });
    const list = await c.instruments();
    expect(list.map((i) => i.id)).toEqual(['stage0']);
    expect((await c.describeInstrument('stage0')).commands.moveTo!.mutating).toBe(true);
    expect((await rpcError(c.describeInstrument('nope'))).code).toBe(ErrorCode.UNKNOWN_INSTRUMENT);

    expect(await c.callInstrument('stage0', 'moveTo', { x: 3, y: -4 })).toEqual({ x: 3, y: -4 });
    expect(target.stage.position).toEqual({ x: 3, y: -4 });
    const wrongType = await rpcError(c.callInstrument('stage0', 'moveTo', { x: '3', y: 0 }));
    expect(wrongType.code).toBe(ErrorCode.INVALID_PARAMS);
    expect(wrongType.data).toEqual({ errors: [{ path: 'params.params.x', message: 'must be number' }] });
    expect((await rpcError(c.callInstrument('stage0', 'fly', {}))).code).toBe(ErrorCode.UNKNOWN_COMMAND);
    const range = await rpcError(c.callInstrument('stage0', 'moveTo', { x: 500, y: 0 }));
    expect(range.code).toBe(ErrorCode.INSTRUMENT_ERROR);
    expect(range.data).toMatchObject({ driverCode: 'OUT_OF_RANGE', driverId: 'stage0' });
    expect(target.stage.moves).toBe(1);

    expect(await c.plans()).toEqual([{ name: 'stream', description: expect.any(String) }]);
    const plan = await c.describePlan('stream');
    expect(plan.schema).toMatchObject({ properties: { periodNs: { unit: 'ns', default: 1000000 } } });
    expect((await rpcError(c.describePlan('nope'))).code).toBe(ErrorCode.UNKNOWN_PLAN);
  });

  it('sessions.start/pause/resume/abort/status/list/frames and instrument ownership', async () => {
    const { c, target } = await setup();
    const noRun = await rpcError(c.pause());
    expect(noRun.code).toBe(ErrorCode.NO_RUNNING_SESSION);
    const bad = await rpcError(c.start('stream', { frames: -1 }));
    expect(bad.code).toBe(ErrorCode.INVALID_PARAMS);
    expect(bad.data).toEqual({ errors: [{ path: 'params.frames', message: 'must be >= 1' }] });

    const s = await c.start('stream', { frames: 1_000_000, chunk: 4 }, { sample: 'NV-7' });
    expect(s).toMatchObject({ plan: 'stream', state: 'running', meta: { sample: 'NV-7' } });
    expect((await rpcError(c.start('stream', {}))).code).toBe(ErrorCode.SESSION_RUNNING);
    const owned = await rpcError(c.callInstrument('stage0', 'moveTo', { x: 1, y: 1 }));
    expect(owned.code).toBe(ErrorCode.INSTRUMENT_OWNED);
    expect(owned.data).toEqual({ session: s.id });
    expect(await c.callInstrument('stage0', 'where')).toEqual({ x: 0, y: 0 }); // read-only commands stay allowed

    expect((await c.pause()).state).toBe('paused');
    expect((await rpcError(c.pause(s.id))).code).toBe(ErrorCode.INVALID_SESSION_STATE);
    const paused = await c.session();
    expect(paused.state).toBe('paused');
    expect((await c.resume(s.id)).state).toBe('running');
    const aborted = await c.abort();
    expect(aborted.state).toBe('aborted');
    expect((await c.status()).running).toBeNull();
    expect((await rpcError(c.session('zzz'))).code).toBe(ErrorCode.UNKNOWN_SESSION);
    expect((await c.sessions()).map((x) => [x.id, x.state])).toEqual([[s.id, 'aborted']]);

    const recorded = target.recorded(s.id, 'stage0.signal0');
    expect(recorded.length).toBeGreaterThan(10);
    const frames = await c.frames(s.id, 'stage0.signal0', 2, 9);
    expect(frames.map((f) => f.header.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(frames[3]!.payload).toEqual(recorded[5]!.payload);
    expect(frames[3]!.payload).toBeInstanceOf(Float64Array);
    const page = await c.call('sessions.frames', { id: s.id, stream: 'stage0.signal0', fromSeq: 0, toSeq: 9, limit: 4 });
    expect(page.frames.map((f) => f.header.seq)).toEqual([0, 1, 2, 3]);
    expect(page.nextSeq).toBe(4);
    expect((await rpcError(c.call('sessions.frames', { id: s.id, stream: 'nope.x', fromSeq: 0, toSeq: 1 }))).code).toBe(ErrorCode.UNKNOWN_STREAM);
    const order = await rpcError(c.call('sessions.frames', { id: s.id, stream: 'stage0.signal0', fromSeq: 5, toSeq: 1 }));
    expect(order.data).toEqual({ errors: [{ path: 'params.toSeq', message: 'must be >= fromSeq (5)' }] });
  });
});

describe('control socket: framing and malformed requests', () => {
  let server: ApiServer;
  let control: string;
  async function raw() {
    const api = await startApi({ maxRequestBytes: 4096 });
    server = api.server;
    control = api.endpoints.control;
    cleanup.push(() => server.stop());
  }

  it('answers DEALER without and REQ with the empty delimiter', async () => {
    await raw();
    const d = await dealerRoundTrip(control, [JSON.stringify({ id: 'a', method: 'daemon.status' })]);
    expect(d).toHaveLength(1);
    expect(json(d[0])).toMatchObject({ id: 'a', result: { running: null } });
    const r = await reqRoundTrip(control, JSON.stringify({ id: 7, method: 'plans.list', params: {} }));
    expect(r).toHaveLength(1); // REQ strips the delimiter the ROUTER mirrored
    expect(json(r[0])).toMatchObject({ id: 7, result: [{ name: 'stream' }] });
    // A DEALER that sends the delimiter itself gets it back.
    const dd = await dealerRoundTrip(control, ['', JSON.stringify({ id: 1, method: 'daemon.status' })]);
    expect(dd[0]!.length).toBe(0);
    expect(json(dd[1])).toMatchObject({ id: 1 });
  });

  const cases: Array<[string, Array<string | Buffer>, number, RegExp]> = [
    ['non-JSON', ['{nope'], ErrorCode.PARSE_ERROR, /parse error/],
    ['invalid UTF-8', [Buffer.from([0x7b, 0xff, 0x7d])], ErrorCode.PARSE_ERROR, /parse error/],
    ['an array', ['[1,2]'], ErrorCode.INVALID_REQUEST, /batches are not supported/],
    ['a number', ['42'], ErrorCode.INVALID_REQUEST, /got number/],
    ['no id', ['{"method":"daemon.status"}'], ErrorCode.INVALID_REQUEST, /id: is required/],
    ['object id', ['{"id":{},"method":"daemon.status"}'], ErrorCode.INVALID_REQUEST, /id: must be a string/],
    ['no method', ['{"id":1}'], ErrorCode.INVALID_REQUEST, /method: is required/],
    ['numeric method', ['{"id":1,"method":3}'], ErrorCode.INVALID_REQUEST, /method: must be a string/],
    ['unknown key', ['{"id":1,"method":"daemon.status","parms":{}}'], ErrorCode.INVALID_REQUEST, /parms: is not allowed/],
    ['unknown method', ['{"id":1,"method":"daemon.explode"}'], ErrorCode.METHOD_NOT_FOUND, /daemon.explode/],
    ['params not an object', ['{"id":1,"method":"daemon.status","params":[1]}'], ErrorCode.INVALID_PARAMS, /params: must be object/],
    ['missing param', ['{"id":1,"method":"instruments.describe","params":{}}'], ErrorCode.INVALID_PARAMS, /params.id: is required/],
    ['wrong param type', ['{"id":1,"method":"sessions.frames","params":{"stream":"a","fromSeq":"0","toSeq":1.5}}'], ErrorCode.INVALID_PARAMS, /params.fromSeq: must be integer; params.toSeq: must be integer/],
    ['extra param', ['{"id":1,"method":"daemon.status","params":{"x":1}}'], ErrorCode.INVALID_PARAMS, /params.x: is not allowed/],
    ['oversized', [JSON.stringify({ id: 1, method: 'daemon.status', params: { pad: 'x'.repeat(5000) } })], ErrorCode.REQUEST_TOO_LARGE, /exceeds the limit of 4096 bytes/],
    ['two body frames', ['{"id":1,"method":"daemon.status"}', '{}'], ErrorCode.INVALID_REQUEST, /exactly one body frame .* got 2/],
  ];
  it.each(cases)('%s gets a precise error', async (_name, parts, code, message) => {
    await raw();
    const reply = json((await dealerRoundTrip(control, parts))[0]);
    expect(reply.error.code).toBe(code);
    expect(reply.error.message).toMatch(message);
    if (code !== ErrorCode.PARSE_ERROR && code !== ErrorCode.REQUEST_TOO_LARGE && !/frame/.test(String(message)) && /"id":1/.test(String(parts[0]))) {
      expect(reply.id).toBe(1);
    }
  });

  it('REQ with extra frames gets the error in REQ framing', async () => {
    await raw();
    const r = await reqRoundTrip(control, ['{"id":1,"method":"daemon.status"}', 'extra']);
    expect(json(r[0]).error).toMatchObject({ code: ErrorCode.INVALID_REQUEST, message: expect.stringMatching(/after the REQ delimiter, got 2/) });
  });

  it('a frame beyond the hard size limit drops that peer only; others are still answered', async () => {
    await raw();
    const { Dealer } = await import('zeromq');
    const big = new Dealer({ linger: 0 });
    const events = big.events;
    big.connect(control);
    const disconnected = new Promise<void>((res) => events.on('disconnect', () => res()));
    await big.send(Buffer.alloc(4096 * 4 + 1, 0x20));
    await disconnected;
    big.close();
    const reply = json((await dealerRoundTrip(control, ['{"id":2,"method":"daemon.status"}']))[0]);
    expect(reply).toMatchObject({ id: 2, result: { version: '0.1.0' } });
  });
});

describe('control socket: a request that timed out is never delivered late', () => {
  it('a call made while the daemon is down times out and does not reach a daemon started afterwards', async () => {
    // An address nobody listens on and nobody else can take (not a probed TCP port: see privateEndpoints).
    const { endpoints, remove } = privateEndpoints();
    cleanup.push(remove);
    const c = client(endpoints, { timeoutMs: 150 });
    cleanup.push(() => c.close());
    await expect(c.callInstrument('stage0', 'moveTo', { x: 9, y: 9 })).rejects.toBeInstanceOf(RpcTimeoutError);
    const { target, late } = await startLateServer(endpoints);
    const c2 = client(endpoints);
    cleanup.push(() => c2.close());
    expect((await c2.status()).running).toBeNull();
    // The first client reconnects: its fresh call is answered, the timed-out one never arrives.
    expect(await c.call('plans.list', {}, { timeoutMs: 5000 })).toEqual([expect.objectContaining({ name: 'stream' })]);
    expect(target.stage.moves).toBe(0);
    expect(late.control.stats.requests).toBe(2);
  });
});

/** A daemon (memory target) started on `endpoints` after a client was already trying them. */
async function startLateServer(endpoints: { control: string; data: string }) {
  const { MemoryTarget } = await import('../../../daemon/api/memory-target.js');
  const { ApiServer } = await import('../../../daemon/api/server.js');
  const target = new MemoryTarget();
  await target.connect();
  const late = new ApiServer(target, { ...endpoints, lingerMs: 0 });
  await late.start();
  cleanup.push(() => late.stop());
  return { target, late };
}

describe('control socket: a daemon that comes up while a call waits', () => {
  it('a call still inside its deadline goes out when the daemon appears, however long the socket took to connect', async () => {
    // The dealer's own send timeout is the client's default (150 ms here); this call allows 20 s. Before, the
    // first send that timed out unsent was dropped and the call waited for a reply that could not come.
    const { endpoints, remove } = privateEndpoints();
    cleanup.push(remove);
    const c = client(endpoints, { timeoutMs: 150 });
    cleanup.push(() => c.close());
    const answer = c.call('plans.list', {}, { timeoutMs: 20_000 });
    const sends = (c as unknown as { sends: { retried: number } }).sends;
    // Counted, not timed: the daemon starts only after two sends have timed out unsent.
    while (sends.retried < 2) await new Promise((r) => setTimeout(r, 20));
    const { late } = await startLateServer(endpoints);
    expect(await answer).toEqual([expect.objectContaining({ name: 'stream' })]);
    expect(late.control.stats.requests).toBe(1);
  });
});

describe('control socket: concurrency', () => {
  it('many clients at once each get their own answers', async () => {
    const api = await startApi();
    cleanup.push(() => api.server.stop());
    const clients: QscopeClient[] = Array.from({ length: 8 }, () => client(api.endpoints));
    cleanup.push(async () => {
      for (const c of clients) await c.close();
    });
    const results = await Promise.all(
      clients.flatMap((c, i) => Array.from({ length: 25 }, (_, k) => c.describePlan('stream').then((p) => `${i}:${k}:${p.name}`))),
    );
    expect(results).toHaveLength(200);
    expect(new Set(results).size).toBe(200);
  });

  it('a client that never reads its replies does not stall another', async () => {
    const api = await startApi();
    cleanup.push(() => api.server.stop());
    const { Dealer } = await import('zeromq');
    const hog = new Dealer({ linger: 0, receiveHighWaterMark: 1, sendHighWaterMark: 100000 });
    hog.connect(api.endpoints.control);
    cleanup.push(async () => hog.close());
    const msg = JSON.stringify({ id: 1, method: 'plans.describe', params: { name: 'stream' } });
    for (let i = 0; i < 5000; i++) await hog.send(msg);
    const c = client(api.endpoints);
    cleanup.push(() => c.close());
    // Wait (by event) until the server has read all the hog's requests, then ask.
    while (api.server.control.stats.requests < 5000) await new Promise((r) => setImmediate(r));
    expect((await c.status()).running).toBeNull();
  });
});
