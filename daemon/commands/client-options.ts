/**
 * Options shared by the commands that talk to a running daemon (status,
 * instruments, start, pause|resume|abort, watch) and the helper that runs
 * one action with a connected QscopeClient, printing errors as one line.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { QscopeClient } from '../api/client.js';

export interface ClientCliOptions {
  control: string;
  data: string;
  serverKey?: string;
  key?: string;
  timeout: number;
  json?: boolean;
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`must be a whole number of ms > 0, got '${value}'`);
  return n;
}

/** Adds --control/--data (env QSCOPE_CONTROL/QSCOPE_DATA), CURVE key options, --timeout and --json. */
export function clientOptions(cmd: Command): Command {
  return cmd
    .option('--control <addr>', 'daemon control endpoint', process.env.QSCOPE_CONTROL ?? 'tcp://127.0.0.1:5555')
    .option('--data <addr>', 'daemon data endpoint', process.env.QSCOPE_DATA ?? 'tcp://127.0.0.1:5556')
    .option('--server-key <z85|file>', "the daemon's CURVE public key (or its .pub file); needed when the daemon uses CURVE")
    .option('--key <file>', "this client's key file from 'qscope keys generate' (its public key must be on the daemon's allow-list)")
    .option('--timeout <ms>', 'reply timeout', parseTimeout, 10_000)
    .option('--json', 'print JSON instead of text');
}

/** Connects, runs `action`, closes; a daemon error or time-out becomes one line on stderr and exit code 1. */
export async function withClient(opts: ClientCliOptions, action: (client: QscopeClient) => Promise<void>): Promise<void> {
  const { QscopeClient } = await import('../api/client.js');
  const { parseKeyFile } = await import('../api/security.js');
  let curve;
  if (opts.serverKey || opts.key) {
    if (!opts.serverKey || !opts.key) return fail('--server-key and --key go together (CURVE needs both)');
    const serverKey = opts.serverKey.length === 40 ? opts.serverKey : parseKeyFile(readFileSync(opts.serverKey, 'utf8'), opts.serverKey).publicKey;
    const own = parseKeyFile(readFileSync(opts.key, 'utf8'), opts.key);
    if (!serverKey || !own.publicKey || !own.secretKey) return fail(`--key ${opts.key}: needs public-key and secret-key lines; --server-key needs a public key`);
    curve = { serverKey, publicKey: own.publicKey, secretKey: own.secretKey };
  }
  const client = new QscopeClient({ control: opts.control, data: opts.data, timeoutMs: opts.timeout, ...(curve ? { curve } : {}) });
  try {
    await action(client);
  } catch (err) {
    fail((err as Error).message);
  } finally {
    await client.close();
  }
}

export function fail(message: string): void {
  process.stderr.write(`qscope: ${message}\n`);
  process.exitCode = 1;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
