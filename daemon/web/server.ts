/**
 * The browser view's server (decisions 1700, 1701): `node:http` serves the
 * page (daemon/web/page/, shipped as plain ES modules) and uPlot from
 * node_modules; one WebSocket per browser carries
 * - control: text `{id, method, params}` → the same Dispatcher (methods,
 *   schemas, errors) as the ZeroMQ control socket; binary reply parts
 *   (`sessions.frames`) come first as `{k: 'part', id, i, header}` messages;
 * - live data: every frame and status of the ControlTarget the ZeroMQ data
 *   socket publishes, as binary messages (codec.ts) through a per-browser
 *   Sender (newest per stream, rate cap, acknowledgement window);
 * - acknowledgements from the browser: text `{"ack": n}`.
 */
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { Subscription } from 'rxjs';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { packageRoot } from '../package.js';
import { Dispatcher } from '../api/dispatcher.js';
import { ErrorCode } from '../api/protocol.js';
import type { ControlTarget } from '../api/target.js';
import { encodeMessage } from './codec.js';
import { DEFAULT_WEB_LISTEN, parseListen, type WebOptions } from './config.js';
import { Access, CSP } from './security.js';
import { Sender, type SenderStats } from './sender.js';

export type WebLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;

/** The page's own files (served by exact name, nothing else from that folder). */
export const PAGE_DIR = join(packageRoot, 'daemon', 'web', 'page');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
/** Control requests one browser may have in flight. */
const MAX_REQUESTS_PER_CLIENT = 16;
/** Largest control request from a browser, bytes. */
const MAX_REQUEST_BYTES = 1024 * 1024;

function vendorFiles(): Record<string, string> {
  const dist = dirname(createRequire(import.meta.url).resolve('uplot'));
  return { '/vendor/uplot.js': join(dist, 'uPlot.esm.js'), '/vendor/uplot.css': join(dist, 'uPlot.min.css') };
}

interface Client {
  ws: WebSocket;
  sender: Sender;
  inFlight: number;
  lastStatsMs: number;
  remote: string;
}

export class WebServer {
  readonly http: Server;
  readonly access: Access;
  private readonly wss: WebSocketServer;
  private readonly dispatcher: Dispatcher;
  private readonly clients = new Set<Client>();
  private readonly files = new Map<string, string>();
  private readonly subs: Subscription[] = [];
  private readonly host: string;
  private readonly port: number;
  private readonly opts: Required<Omit<WebOptions, 'allowedHosts' | 'listen' | 'enabled'>>;
  /** Requests refused before reaching the page or the socket, by reason (tests, logs). */
  readonly refused = { host: 0, origin: 0, token: 0, full: 0 };

  constructor(
    private readonly target: ControlTarget,
    options: WebOptions = {},
    private readonly log: WebLog = () => {},
  ) {
    ({ host: this.host, port: this.port } = parseListen(options.listen ?? DEFAULT_WEB_LISTEN));
    this.opts = {
      maxFps: options.maxFps ?? 20,
      window: options.window ?? 64,
      maxBufferedBytes: options.maxBufferedBytes ?? 4 * 1024 * 1024,
      maxClients: options.maxClients ?? 32,
    };
    this.access = new Access(this.host, options.allowedHosts ?? []);
    this.dispatcher = new Dispatcher(target, { maxRequestBytes: MAX_REQUEST_BYTES, maxReplyBytes: 64 * 1024 * 1024 });
    this.files.set('/', join(PAGE_DIR, 'index.html'));
    for (const name of existsSync(PAGE_DIR) ? readdirSync(PAGE_DIR) : []) if (/^[a-z0-9-]+\.(js|css|html)$/.test(name)) this.files.set(`/app/${name}`, join(PAGE_DIR, name));
    for (const [path, file] of Object.entries(vendorFiles())) this.files.set(path, file);
    this.http = createServer((req, res) => this.request(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES, perMessageDeflate: false });
    this.http.on('upgrade', (req, socket, head) => {
      const refuse = (code: number, why: keyof WebServer['refused']) => {
        this.refused[why]++;
        this.log('warn', `web: websocket refused (${why})`, { host: req.headers.host, origin: req.headers.origin, remote: req.socket.remoteAddress });
        socket.end(`HTTP/1.1 ${code} ${code === 403 ? 'Forbidden' : code === 401 ? 'Unauthorized' : 'Service Unavailable'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      };
      if (req.url !== '/ws') return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      if (!this.access.hostAllowed(req.headers.host)) return refuse(403, 'host');
      if (!this.access.originAllowed(req.headers.origin)) return refuse(403, 'origin');
      if (!this.access.authorised(req.headers.cookie)) return refuse(401, 'token');
      if (this.clients.size >= this.opts.maxClients) return refuse(503, 'full');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, req));
    });
  }

  /** The URL to open (with the one-time token when the bind is not loopback). */
  get url(): string {
    const a = this.http.address() as AddressInfo | null;
    const host = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${a?.port ?? this.port}/`;
    return this.access.token ? `${base}?token=${this.access.token}` : base;
  }

  get boundPort(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Per-browser streaming stats, in connection order. */
  clientStats(): Array<SenderStats & { remote: string }> {
    return [...this.clients].map((c) => ({ ...c.sender.stats, remote: c.remote }));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.port, this.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.access.bound(this.boundPort);
    this.subs.push(
      this.target.frames$.subscribe({
        next: ({ session, frame }) => {
          for (const c of this.clients) c.sender.offer(`${session}/${frame.header.stream}`, { k: 'frame', session, header: frame.header }, frame.payload);
        },
        error: (err) => this.log('error', 'web: frames$ errored; live data stopped', { err: String(err) }),
      }),
    );
    if (this.target.sessionEvents$) {
      this.subs.push(
        this.target.sessionEvents$.subscribe({
          next: (status) => {
            for (const c of this.clients) c.sender.offer(`${status.id}/@status`, { k: 'status', status });
          },
          error: (err) => this.log('error', 'web: sessionEvents$ errored', { err: String(err) }),
        }),
      );
    }
    return this.url;
  }

  async stop(): Promise<void> {
    for (const s of this.subs.splice(0)) s.unsubscribe();
    for (const c of this.clients) {
      c.sender.close();
      c.ws.close(1001, 'daemon stopping');
    }
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private headers(res: ServerResponse, type?: string): void {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    if (type) res.setHeader('Content-Type', type);
  }

  private deny(res: ServerResponse, code: number, text: string): void {
    this.headers(res, 'text/plain; charset=utf-8');
    res.writeHead(code);
    res.end(text);
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    if (!this.access.hostAllowed(req.headers.host)) {
      this.refused.host++;
      this.log('warn', 'web: request refused (Host)', { host: req.headers.host, remote: req.socket.remoteAddress });
      return this.deny(res, 403, 'forbidden: unknown Host\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.deny(res, 405, 'method not allowed\n');
    const url = new URL(req.url ?? '/', 'http://x');
    const token = url.searchParams.get('token');
    if (token !== null && this.access.token) {
      if (!this.access.tokenMatches(token)) {
        this.refused.token++;
        return this.deny(res, 401, 'unauthorised: wrong token\n');
      }
      // The token becomes a cookie and leaves the address bar.
      this.headers(res);
      res.setHeader('Set-Cookie', this.access.cookie());
      res.writeHead(303, { Location: '/' });
      return void res.end();
    }
    if (!this.access.authorised(req.headers.cookie)) {
      this.refused.token++;
      return this.deny(res, 401, 'unauthorised: open the URL with the token the daemon printed at start\n');
    }
    if (url.pathname === '/favicon.ico') return this.deny(res, 204, '');
    const file = this.files.get(url.pathname);
    if (!file) return this.deny(res, 404, 'not found\n');
    this.headers(res, TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream');
    res.writeHead(200);
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  private connected(ws: WebSocket, req: IncomingMessage): void {
    const client: Client = { ws, sender: new Sender(ws, this.opts), inFlight: 0, lastStatsMs: -Infinity, remote: `${req.socket.remoteAddress}:${req.socket.remotePort}` };
    client.sender.onFlush = () => {
      const now = performance.now();
      if (now - client.lastStatsMs < 500) return undefined;
      client.lastStatsMs = now;
      return { meta: { k: 'stats', ...client.sender.stats, clients: this.clients.size } };
    };
    this.clients.add(client);
    this.log('info', 'web: browser connected', { remote: client.remote, clients: this.clients.size });
    ws.on('message', (data, isBinary) => void this.message(client, data, isBinary));
    ws.on('close', () => {
      client.sender.close();
      this.clients.delete(client);
      this.log('info', 'web: browser disconnected', { remote: client.remote, clients: this.clients.size });
    });
    ws.on('error', (err) => this.log('warn', 'web: socket error', { remote: client.remote, err: String(err) }));
  }

  private async message(c: Client, data: RawData, isBinary: boolean): Promise<void> {
    if (isBinary) return c.ws.close(1003, 'text messages only');
    const body = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    // Acknowledgements are tiny and frequent: recognised before any JSON parsing of requests.
    const ack = /^\{"ack":(\d{1,15})\}$/.exec(body.toString('latin1'));
    if (ack) return c.sender.ack(Number(ack[1]));
    if (c.inFlight >= MAX_REQUESTS_PER_CLIENT) {
      let id: unknown = null;
      try {
        id = (JSON.parse(body.toString('utf8')) as { id?: unknown }).id ?? null;
      } catch {
        // the dispatcher would say PARSE_ERROR; busy is the answer either way
      }
      const error = { code: ErrorCode.SERVER_BUSY, message: `server busy: more than ${MAX_REQUESTS_PER_CLIENT} requests in flight from this browser`, data: { limit: MAX_REQUESTS_PER_CLIENT } };
      return c.ws.send(JSON.stringify({ id, error }));
    }
    c.inFlight++;
    try {
      const reply = await this.dispatcher.dispatch(body);
      if (reply.method && reply.method !== 'sessions.frames' && reply.method !== 'sessions.streams' && !reply.method.endsWith('.list') && !reply.method.endsWith('status') && !reply.method.endsWith('describe'))
        this.log('info', `web: ${reply.method}`, { remote: c.remote, error: reply.error?.message });
      if (c.ws.readyState !== c.ws.OPEN) return;
      if (reply.parts.length) {
        const { id, result } = JSON.parse(reply.json) as { id: unknown; result: { frames: unknown[] } };
        reply.parts.forEach((p, i) => c.ws.send(encodeMessage({ k: 'part', id, i, header: result.frames[i] }, p), { binary: true }));
      }
      c.ws.send(reply.json);
    } finally {
      c.inFlight--;
    }
  }
}
