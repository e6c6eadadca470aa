/**
 * Who may reach the web view: Host and Origin checks (DNS rebinding, cross-site WebSocket hijacking), the
 * token of a non-loopback bind exchanged for an HttpOnly SameSite cookie, the CSP, and control requests
 * answered by the same Dispatcher as the ZeroMQ API. Plus the binary message layout the page decodes.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { Dispatcher } from '../../../daemon/api/dispatcher.js';
import { MemoryTarget } from '../../../daemon/api/memory-target.js';
import { decodeMessage, encodeMessage } from '../../../daemon/web/codec.js';
import { WebServer } from '../../../daemon/web/server.js';
import { get, launchChromium, openSocket } from './helpers.js';

const servers: WebServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(listen: string) {
  const target = new MemoryTarget();
  await target.connect();
  const server = new WebServer(target, { listen });
  servers.push(server);
  await server.start();
  return { server, target, port: server.boundPort };
}

function request(ws: WebSocket, body: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    ws.on('message', (data, binary) => {
      if (!binary) resolve(JSON.parse(String(data)) as Record<string, unknown>);
    });
    ws.send(body);
  });
}

describe('web view on loopback', () => {
  it('serves the page with a CSP to its own Host names only', async () => {
    const { port } = await serve('127.0.0.1:0');
    const ok = await get(port, '/', { Host: `127.0.0.1:${port}` });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<script type="module" src="/app/app.js">');
    expect(ok.headers['content-security-policy']).toMatch(/default-src 'none'.*script-src 'self'.*connect-src 'self'.*frame-ancestors 'none'/);
    expect((await get(port, '/', { Host: `localhost:${port}` })).status).toBe(200);
    expect((await get(port, '/vendor/uplot.js', { Host: `localhost:${port}` })).body).toMatch(/export \{ uPlot as default \}|export default/);
    // DNS rebinding: a foreign name resolving to 127.0.0.1 reaches the port but gets nothing.
    const rebound = await get(port, '/', { Host: `evil.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain('<html');
    expect((await get(port, '/app/../../package.json', { Host: `127.0.0.1:${port}` })).status).toBe(404);
  });

  it('refuses WebSockets from a foreign Origin or Host; answers control like the ZeroMQ API', async () => {
    const { server, target, port } = await serve('127.0.0.1:0');
    const origin = `http://127.0.0.1:${port}`;
    expect((await openSocket(port, { Origin: 'http://evil.example' })).outcome).toBe(403);
    expect((await openSocket(port, {})).outcome).toBe(403);
    expect((await openSocket(port, { Origin: origin, Host: `evil.example:${port}` })).outcome).toBe(403);
    expect(server.refused).toMatchObject({ origin: 2, host: 1 });
    const s = await openSocket(port, { Origin: origin });
    expect(s.outcome).toBe('open');
    const ws = (s as { ws: WebSocket }).ws;
    try {
      const body = JSON.stringify({ id: 7, method: 'sessions.start', params: { plan: 'stream', params: { frames: -1 } } });
      const reply = await request(ws, body);
      const zmq = JSON.parse((await new Dispatcher(target, { maxRequestBytes: 1 << 20, maxReplyBytes: 1 << 20 }).dispatch(Buffer.from(body))).json);
      expect(reply).toEqual(zmq);
      expect(reply.error).toMatchObject({ code: -32602 });
    } finally {
      ws.terminate();
    }
  });
});

describe('web view on a non-loopback address', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  afterAll(async () => browser?.close());

  it('gives nothing without the token; the token becomes an HttpOnly SameSite cookie', async () => {
    const { server, port } = await serve('0.0.0.0:0');
    const token = server.access.token!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(server.url).toBe(`http://127.0.0.1:${port}/?token=${token}`);
    const host = { Host: `127.0.0.1:${port}` };
    const none = await get(port, '/', host);
    expect(none.status).toBe(401);
    expect(none.body).not.toContain('<html');
    expect((await get(port, '/app/app.js', host)).status).toBe(401);
    expect((await get(port, '/?token=wrong', host)).status).toBe(401);
    expect((await openSocket(port, { Origin: `http://127.0.0.1:${port}` })).outcome).toBe(401);
    const exchange = await get(port, `/?token=${token}`, host);
    expect(exchange.status).toBe(303);
    const cookie = String(exchange.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const pair = cookie.split(';')[0]!;
    expect((await get(port, '/', { ...host, Cookie: pair })).status).toBe(200);
    const s = await openSocket(port, { Origin: `http://127.0.0.1:${port}`, Cookie: pair });
    expect(s.outcome).toBe('open');
    if (s.outcome === 'open') s.ws.terminate();

    // The same in Chromium: without the token the page is empty; the printed URL opens the live page.
    browser = await launchChromium();
    const page = await browser.newPage();
    const response = await page.goto(`http://127.0.0.1:${port}/`);
    expect(response!.status()).toBe(401);
    expect(await page.locator('#plan').count()).toBe(0);
    await page.goto(server.url);
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
    await page.waitForSelector('#conn.state-open');
    expect(await page.evaluate(() => document.cookie)).toBe(''); // HttpOnly: scripts never see it
  });
});

describe('binary messages', () => {
  it('put the payload at a multiple of 8 bytes so the page views it in place', () => {
    for (const stream of ['a', 'hbt0.histogram', 'g2.live_pl-with-a-longer-name']) {
      const payload = Float64Array.of(1.5, -2, Math.PI);
      const buf = encodeMessage({ k: 'frame', session: 'S', header: { stream, dtype: 'f64', shape: [3] } }, payload);
      const { meta, payload: bytes } = decodeMessage(buf);
      expect(meta).toMatchObject({ k: 'frame', header: { stream } });
      expect(bytes.byteOffset % 8).toBe(0);
      expect(Array.from(new Float64Array(buf.buffer, buf.byteOffset + (buf.length - 24), 3))).toEqual([1.5, -2, Math.PI]);
      expect(Array.from(new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 24)))).toEqual([1.5, -2, Math.PI]);
    }
    expect(() => decodeMessage(Uint8Array.of(1, 0))).toThrow(/too short/);
  });
});
