import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dealer, Request } from 'zeromq';
import { ApiServer, type ApiOptions } from '../../../daemon/api/server.js';
import { MemoryTarget } from '../../../daemon/api/memory-target.js';
import { QscopeClient, type ClientOptions } from '../../../daemon/api/client.js';

export const EPHEMERAL = { control: 'tcp://127.0.0.1:0', data: 'tcp://127.0.0.1:0' };

/**
 * Endpoints that stay ours after the server on them stops: IPC paths in a fresh private directory.
 * A test where a client outlives its server must not reuse a released TCP port: test files run in
 * parallel, and another file's server binding port 0 can be given that very port (the client then talks
 * to a stranger), and a client reconnecting to a free port in the ephemeral range can even connect to
 * itself (TCP simultaneous open). Returns the endpoints and a function that removes the directory.
 */
export function privateEndpoints(): { endpoints: { control: string; data: string }; remove: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'qscope-ipc-'));
  return {
    endpoints: { control: `ipc://${join(dir, 'control')}`, data: `ipc://${join(dir, 'data')}` },
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function startApi(opts: ApiOptions = {}, target = new MemoryTarget()) {
  await target.connect();
  const server = new ApiServer(target, { ...EPHEMERAL, lingerMs: 0, ...opts });
  const endpoints = await server.start();
  return { server, target, endpoints };
}

export function client(endpoints: { control: string; data: string }, opts: ClientOptions = {}): QscopeClient {
  return new QscopeClient({ ...endpoints, timeoutMs: 5000, ...opts });
}

/** A raw DEALER: sends parts, returns the reply parts. */
export async function dealerRoundTrip(endpoint: string, parts: Array<string | Buffer>): Promise<Buffer[]> {
  const d = new Dealer({ linger: 0, receiveTimeout: 5000 });
  d.connect(endpoint);
  try {
    await d.send(parts);
    return await d.receive();
  } finally {
    d.close();
  }
}

export async function reqRoundTrip(endpoint: string, body: string | Buffer | Array<string | Buffer>): Promise<Buffer[]> {
  const r = new Request({ linger: 0, receiveTimeout: 5000 });
  r.connect(endpoint);
  try {
    await r.send(body);
    return await r.receive();
  } finally {
    r.close();
  }
}

export function json(buf: Buffer | undefined): any {
  return JSON.parse(buf!.toString());
}
