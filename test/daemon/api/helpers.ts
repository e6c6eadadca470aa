import { Dealer, Request } from 'zeromq';
import { ApiServer, type ApiOptions } from '../../../daemon/api/server.js';
import { MemoryTarget } from '../../../daemon/api/memory-target.js';
import { QscopeClient, type ClientOptions } from '../../../daemon/api/client.js';

export const EPHEMERAL = { control: 'tcp://127.0.0.1:0', data: 'tcp://127.0.0.1:0' };

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
