/**
 * Who may talk to the web view (decision 1701): loopback binds need nothing
 * more; any other bind needs the token printed once at start, exchanged for an
 * HttpOnly SameSite=Strict cookie. Every request's `Host` must name this
 * server (DNS rebinding) and every WebSocket's `Origin` must be this page
 * (cross-site WebSocket hijacking).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';

export const COOKIE = 'qscope_web';

/** The Content-Security-Policy of every response: only this origin's scripts, styles and sockets. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`.toLowerCase();
}

/** The `host:port` values a browser may send in `Host` (and, as http://…, in `Origin`). */
export function allowedHosts(bindHost: string, port: number, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>(['127.0.0.1', 'localhost', '::1']);
  if (!isLoopback(bindHost)) {
    const wildcard = bindHost === '0.0.0.0' || bindHost === '::';
    if (!wildcard) names.add(bindHost);
    else for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address);
    names.add(hostname());
    for (const h of extra) names.add(h);
  } else if (bindHost !== '127.0.0.1') names.add(bindHost);
  return new Set([...names].map((h) => hostPort(h, port)));
}

export class Access {
  /** Set only for non-loopback binds. */
  readonly token: string | undefined;
  private hosts: Set<string> = new Set();

  constructor(
    readonly bindHost: string,
    private readonly extraHosts: readonly string[] = [],
  ) {
    this.token = isLoopback(bindHost) ? undefined : randomBytes(24).toString('base64url');
  }

  /** Call once the port is known (after binding port 0). */
  bound(port: number): void {
    this.hosts = allowedHosts(this.bindHost, port, this.extraHosts);
  }

  hostAllowed(host: string | undefined): boolean {
    return host !== undefined && this.hosts.has(host.toLowerCase());
  }

  originAllowed(origin: string | undefined): boolean {
    if (!origin) return false;
    const m = /^http:\/\/([^/]+)$/i.exec(origin);
    return m !== null && this.hosts.has(m[1]!.toLowerCase());
  }

  /** True when no token is needed, or the request carries the right cookie. */
  authorised(cookieHeader: string | undefined): boolean {
    if (!this.token) return true;
    return this.tokenMatches(parseCookies(cookieHeader)[COOKIE]);
  }

  tokenMatches(candidate: string | undefined | null): boolean {
    if (!this.token || typeof candidate !== 'string') return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The Set-Cookie value that carries the token from now on (HttpOnly: page scripts never see it). */
  cookie(): string {
    return `${COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}
