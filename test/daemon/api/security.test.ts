import { mkdtempSync, readFileSync, statSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { curveKeyPair, Subscriber } from 'zeromq';
import { RpcTimeoutError } from '../../../daemon/api/client.js';
import { MemoryTarget } from '../../../daemon/api/memory-target.js';
import { checkApiSecurity, isLoopbackEndpoint, parseKeyFile, resolveCurve, writeKeyPair, type ZapDecision } from '../../../daemon/api/security.js';
import { ApiServer } from '../../../daemon/api/server.js';
import { isCurveKey, z85Decode, z85Encode } from '../../../daemon/api/z85.js';
import { client } from './helpers.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qscope-keys-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('endpoints and key material', () => {
  it('tells loopback endpoints from exposed ones', () => {
    for (const e of ['tcp://127.0.0.1:5555', 'tcp://127.3.2.1:0', 'tcp://localhost:1', 'tcp://[::1]:5555', 'ipc:///tmp/q', 'inproc://x']) expect(isLoopbackEndpoint(e), e).toBe(true);
    for (const e of ['tcp://0.0.0.0:5555', 'tcp://*:5555', 'tcp://192.168.1.4:5555', 'tcp://eth0:5555', 'tcp://[::]:1', 'udp://127.0.0.1:1', 'garbage']) expect(isLoopbackEndpoint(e), e).toBe(false);
  });

  it('Z85 round-trips CURVE keys and the RFC 32 test vector', () => {
    expect(z85Encode(Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).toBe('HelloWorld');
    const { publicKey, secretKey } = curveKeyPair();
    for (const k of [publicKey, secretKey]) {
      expect(z85Decode(k)).toHaveLength(32);
      expect(z85Encode(z85Decode(k))).toBe(k);
      expect(isCurveKey(k)).toBe(true);
    }
    expect(isCurveKey('x'.repeat(39))).toBe(false);
    expect(() => z85Decode('abc"~')).toThrow(/invalid character/);
  });

  it('refuses a non-loopback bind without CURVE, saying why', () => {
    expect(() => new ApiServer(new MemoryTarget(), { control: 'tcp://0.0.0.0:0', data: 'tcp://127.0.0.1:0' })).toThrow(
      /refusing to bind tcp:\/\/0\.0\.0\.0:0 \(not loopback\) without CURVE/,
    );
    expect(() => checkApiSecurity({ data: 'tcp://*:5556' })).toThrow(/tcp:\/\/\*:5556/);
    expect(checkApiSecurity({})).toBeUndefined();
  });

  it('refuses missing keys, an empty allow-list and a secret-key file readable by others', () => {
    const server = curveKeyPair();
    expect(() => checkApiSecurity({ control: 'tcp://0.0.0.0:1', curve: { allow: [server.publicKey] } })).toThrow(/server secret key is required/);
    expect(() => resolveCurve({ ...server })).toThrow(/allow-list of client public keys is empty/);
    expect(() => resolveCurve({ ...server, allow: ['nope'] })).toThrow(/api.curve.allow\[0\]: not a 40-character Z85/);
    const dir = tmp();
    const base = join(dir, 'daemon');
    const written = writeKeyPair(base);
    expect(statSync(written.keyFile).mode & 0o777).toBe(0o600);
    expect(parseKeyFile(readFileSync(written.pubFile, 'utf8'), written.pubFile)).toEqual({ publicKey: written.publicKey });
    expect(() => writeKeyPair(base)).toThrow(/exists; refusing to overwrite/);
    const clientKeys = writeKeyPair(join(dir, 'alice'));
    const ok = resolveCurve({ secretKeyFile: written.keyFile, allowFiles: [clientKeys.pubFile] });
    expect(ok.publicKey).toBe(written.publicKey);
    expect([...ok.allow]).toEqual([clientKeys.publicKey]);
    chmodSync(written.keyFile, 0o644);
    expect(() => resolveCurve({ secretKeyFile: written.keyFile, allowFiles: [clientKeys.pubFile] })).toThrow(
      /is accessible by group or others \(mode 0644\); run 'chmod 600/,
    );
  });
});

describe('CURVE with the ZAP allow-list over real sockets', () => {
  it('an allowed client is served; an unlisted client cannot issue a command or subscribe', async () => {
    const serverKeys = curveKeyPair();
    const alice = curveKeyPair();
    const mallory = curveKeyPair();
    const target = new MemoryTarget();
    await target.connect();
    const decisions: ZapDecision[] = [];
    const waiters: Array<() => void> = [];
    // Non-loopback bind (all interfaces) is allowed because CURVE is configured; clients reach it on 127.0.0.1.
    const server = new ApiServer(
      target,
      { control: 'tcp://0.0.0.0:0', data: 'tcp://0.0.0.0:0', lingerMs: 0, curve: { ...serverKeys, allow: [alice.publicKey] } },
      () => {},
      (d) => {
        decisions.push(d);
        waiters.splice(0).forEach((w) => w());
      },
    );
    const bound = await server.start();
    cleanup.push(() => server.stop());
    const port = (e: string) => e.slice(e.lastIndexOf(':') + 1);
    const endpoints = { control: `tcp://127.0.0.1:${port(bound.control)}`, data: `tcp://127.0.0.1:${port(bound.data)}` };
    const denied = (n: number) => new Promise<void>((res) => {
      const check = () => (decisions.filter((d) => !d.allowed).length >= n ? res() : waiters.push(check));
      check();
    });

    const good = client(endpoints, { curve: { serverKey: serverKeys.publicKey, ...alice } });
    cleanup.push(() => good.close());
    expect(await good.callInstrument('stage0', 'moveTo', { x: 1, y: 2 })).toEqual({ x: 1, y: 2 });
    expect(decisions.filter((d) => d.allowed).map((d) => d.publicKey)).toContain(alice.publicKey);

    const requestsBefore = server.control.stats.requests;
    const bad = client(endpoints, { curve: { serverKey: serverKeys.publicKey, ...mallory }, timeoutMs: 300 });
    cleanup.push(() => bad.close());
    const attempt = bad.callInstrument('stage0', 'moveTo', { x: 50, y: 50 });
    await denied(1); // the ZAP handler said no (an event, not a timer)
    await expect(attempt).rejects.toBeInstanceOf(RpcTimeoutError);
    expect(decisions.find((d) => !d.allowed)).toMatchObject({ mechanism: 'CURVE', publicKey: mallory.publicKey, address: '127.0.0.1' });
    expect(server.control.stats.requests).toBe(requestsBefore); // the request never reached the dispatcher
    expect(target.stage.position).toEqual({ x: 1, y: 2 });
    expect(target.stage.moves).toBe(1);

    // The data socket enforces the same allow-list.
    const spy = new Subscriber({ linger: 0, curveServerKey: serverKeys.publicKey, curvePublicKey: mallory.publicKey, curveSecretKey: mallory.secretKey });
    spy.connect(endpoints.data);
    spy.subscribe('session/');
    cleanup.push(() => spy.close());
    const before = decisions.filter((d) => !d.allowed).length;
    await denied(before + 1);
    expect(server.data.subscriptions.size).toBe(0);
    expect(server.zapDecisions.denied).toBeGreaterThanOrEqual(2);
    // The allowed client still works afterwards.
    expect((await good.status()).running).toBeNull();
  });
});
