/**
 * API security (decision 0602): loopback binds need nothing; any other bind
 * needs CURVE server keys and an allow-list of client public keys, enforced
 * by our ZAP handler (zeromq.js has none, and CURVE without one accepts any
 * client key). Secret-key files readable by group or others are refused.
 */
import { chmodSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { curveKeyPair, Router, type Context } from 'zeromq';
import { DEFAULT_CONTROL, DEFAULT_DATA } from './protocol.js';
import { isCurveKey, z85Encode } from './z85.js';

/** CURVE settings of the `api.curve` config section. */
export interface CurveOptions {
  /** Server public key (Z85); taken from `secretKeyFile` when that file holds it. */
  publicKey?: string;
  /** Server secret key (Z85) inline; prefer `secretKeyFile`. */
  secretKey?: string;
  /** A key file written by `qscope keys generate` (mode 0600 required). */
  secretKeyFile?: string;
  /** Allowed client public keys (Z85). */
  allow?: string[];
  /** Allowed client public-key files (`.pub` files written by `qscope keys generate`). */
  allowFiles?: string[];
}

export interface ResolvedCurve {
  publicKey: string;
  secretKey: string;
  /** Allowed client public keys, Z85. */
  allow: Set<string>;
}

/**
 * True when an endpoint is reachable only from this machine: tcp on
 * 127.0.0.0/8, ::1 or `localhost`, or the ipc/inproc transports. Anything
 * else (0.0.0.0, `*`, another address or an interface name) is exposed.
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const m = /^([a-z]+):\/\/(.*)$/.exec(endpoint);
  if (!m) return false;
  const [, transport, rest] = m as unknown as [string, string, string];
  if (transport === 'ipc' || transport === 'inproc') return true;
  if (transport !== 'tcp') return false;
  const host = rest.startsWith('[') ? rest.slice(1, rest.indexOf(']')) : rest.slice(0, rest.lastIndexOf(':'));
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Reads `public-key = …` / `secret-key = …` lines of a key file. */
export function parseKeyFile(text: string, file: string): { publicKey?: string; secretKey?: string } {
  const out: { publicKey?: string; secretKey?: string } = {};
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(public-key|secret-key)\s*=\s*(\S+)$/.exec(line);
    if (!m) throw new Error(`${file}:${n + 1}: expected 'public-key = <z85>' or 'secret-key = <z85>'`);
    if (!isCurveKey(m[2])) throw new Error(`${file}:${n + 1}: ${m[1]} is not a 40-character Z85 CURVE key`);
    if (m[1] === 'public-key') out.publicKey = m[2];
    else out.secretKey = m[2];
  }
  return out;
}

/** Refuses a secret-key file that group or others may read or write. */
export function checkSecretFileMode(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(
      `api.curve.secretKeyFile: ${file} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run 'chmod 600 ${file}'`,
    );
  }
}

/** Resolves the CURVE section into keys + allow-list, or throws saying what is missing. */
export function resolveCurve(opts: CurveOptions): ResolvedCurve {
  let { publicKey, secretKey } = opts;
  if (opts.secretKeyFile) {
    if (secretKey) throw new Error('api.curve: give secretKey or secretKeyFile, not both');
    checkSecretFileMode(opts.secretKeyFile);
    const keys = parseKeyFile(readFileSync(opts.secretKeyFile, 'utf8'), opts.secretKeyFile);
    if (!keys.secretKey) throw new Error(`api.curve.secretKeyFile: ${opts.secretKeyFile} holds no secret-key line`);
    secretKey = keys.secretKey;
    publicKey ??= keys.publicKey;
  }
  if (!secretKey) throw new Error('api.curve: a server secret key is required (secretKey or secretKeyFile)');
  if (!isCurveKey(secretKey)) throw new Error('api.curve.secretKey: not a 40-character Z85 CURVE key');
  if (!publicKey) throw new Error('api.curve.publicKey: required (or a secretKeyFile that holds the public-key line)');
  if (!isCurveKey(publicKey)) throw new Error('api.curve.publicKey: not a 40-character Z85 CURVE key');
  const allow = new Set<string>();
  for (const [i, key] of (opts.allow ?? []).entries()) {
    if (!isCurveKey(key)) throw new Error(`api.curve.allow[${i}]: not a 40-character Z85 CURVE key`);
    allow.add(key);
  }
  for (const [i, file] of (opts.allowFiles ?? []).entries()) {
    const keys = parseKeyFile(readFileSync(file, 'utf8'), file);
    if (!keys.publicKey) throw new Error(`api.curve.allowFiles[${i}]: ${file} holds no public-key line`);
    allow.add(keys.publicKey);
  }
  if (allow.size === 0) throw new Error('api.curve: the allow-list of client public keys is empty (allow or allowFiles)');
  return { publicKey, secretKey, allow };
}

/**
 * Decides whether the API may bind its endpoints: loopback needs nothing;
 * otherwise CURVE must resolve. Returns the resolved keys (also on loopback
 * when CURVE is configured) or throws why it refuses.
 */
export function securityFor(endpoints: string[], curve: CurveOptions | undefined): ResolvedCurve | undefined {
  const exposed = endpoints.filter((e) => !isLoopbackEndpoint(e));
  if (!curve) {
    if (exposed.length) {
      throw new Error(
        `api: refusing to bind ${exposed.join(', ')} (not loopback) without CURVE: configure api.curve with the server key pair and an allow-list of client keys ('qscope keys generate')`,
      );
    }
    return undefined;
  }
  return resolveCurve(curve);
}

/** The daemon's start-up check of the `api` config section (endpoints after command-line overrides). */
export function checkApiSecurity(api: { control?: unknown; data?: unknown; curve?: unknown }): ResolvedCurve | undefined {
  const endpoints = [api.control ?? DEFAULT_CONTROL, api.data ?? DEFAULT_DATA].map(String);
  return securityFor(endpoints, api.curve as CurveOptions | undefined);
}

/** Writes `<base>.key` (both keys, mode 0600) and `<base>.pub` (public key). Refuses to overwrite. */
export function writeKeyPair(base: string, comment = 'qscope CURVE key pair'): { publicKey: string; keyFile: string; pubFile: string } {
  const { publicKey, secretKey } = curveKeyPair();
  const keyFile = `${base}.key`;
  const pubFile = `${base}.pub`;
  for (const f of [keyFile, pubFile]) if (existsSync(f)) throw new Error(`${f}: exists; refusing to overwrite a key`);
  writeFileSync(keyFile, `# ${comment}: SECRET, keep private (mode 0600)\npublic-key = ${publicKey}\nsecret-key = ${secretKey}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(keyFile, 0o600); // umask-independent
  writeFileSync(pubFile, `# ${comment}: public key, share with the daemon's allow-list\npublic-key = ${publicKey}\n`, { mode: 0o644, flag: 'wx' });
  return { publicKey, keyFile, pubFile };
}

export interface ZapDecision {
  allowed: boolean;
  mechanism: string;
  /** Client public key (Z85) for CURVE. */
  publicKey?: string;
  /** Peer IP address. */
  address: string;
}

/** The ZAP endpoint every libzmq context consults for authentication (RFC 27). */
export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/**
 * A ZAP handler (RFC 27) for one context: accepts CURVE clients whose public
 * key is on the allow-list, denies everything else (other mechanisms too).
 */
export class ZapHandler {
  private readonly socket: Router;
  private loop: Promise<void> | undefined;
  decisions = { allowed: 0, denied: 0 };

  constructor(
    context: Context,
    private readonly allow: Set<string>,
    private readonly onDecision: (d: ZapDecision) => void = () => {},
  ) {
    this.socket = new Router({ context, linger: 0 });
  }

  async start(): Promise<void> {
    await this.socket.bind(ZAP_ENDPOINT);
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        // [routing id, empty, version, request id, domain, address, identity, mechanism, credentials…]
        if (frames.length < 8) continue; // not a ZAP request: nothing sensible to answer
        const [rid, , version, requestId, , address, , mechanism, ...creds] = frames as Buffer[];
        const mech = mechanism!.toString();
        const publicKey = mech === 'CURVE' && creds[0]?.length === 32 ? z85Encode(creds[0]) : undefined;
        const allowed = version!.toString() === '1.0' && publicKey !== undefined && this.allow.has(publicKey);
        if (allowed) this.decisions.allowed++;
        else this.decisions.denied++;
        this.onDecision({ allowed, mechanism: mech, publicKey, address: address!.toString() });
        await this.socket.send([
          rid!,
          '',
          '1.0',
          requestId!,
          allowed ? '200' : '400',
          allowed ? 'OK' : publicKey ? 'client key not on the allow-list' : `mechanism ${mech} not accepted`,
          allowed ? publicKey! : '',
          '',
        ]);
      }
    } catch (err) {
      if (!this.socket.closed) throw err;
    }
  }

  async stop(): Promise<void> {
    this.socket.close();
    await this.loop?.catch(() => {});
  }
}
