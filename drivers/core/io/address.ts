/**
 * Instrument addresses in the config: `tcp://HOST:PORT` (a raw socket: PI
 * GCS on 50000, SCPI on 5025, a serial-to-Ethernet box) or
 * `serial:/dev/ttyUSB0` (with `baudRate`; USB-CDC, RS-232 adapters, a socat pty).
 */
export type Address = { kind: 'tcp'; host: string; port: number } | { kind: 'serial'; path: string };

/** Parses an address; throws a RangeError naming what is wrong. */
export function parseAddress(text: string): Address {
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/\s]+):(\d{1,5})\/?$/.exec(text);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535) throw new RangeError(`address '${text}': port must be 1..65535`);
    return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port };
  }
  const serial = /^serial:(\/\S+)$/.exec(text);
  if (serial) return { kind: 'serial', path: serial[1]! };
  throw new RangeError(`address '${text}': expected tcp://HOST:PORT or serial:/dev/PATH`);
}

export function formatAddress(a: Address): string {
  return a.kind === 'tcp' ? `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` : `serial:${a.path}`;
}


/** JSON Schema of the link settings, for adapter config schemas. */
export const LINK_SETTINGS_SCHEMA = {
  address: { type: 'string', pattern: '^(tcp://(\\[[^\\]]+\\]|[^:/\\s]+):\\d{1,5}/?|serial:/\\S+)$', description: 'tcp://HOST:PORT or serial:/dev/PATH' },
  baudRate: { type: 'integer', minimum: 50, maximum: 4000000, unit: 'Bd' },
  replyTimeoutMs: { type: 'number', exclusiveMinimum: 0, maximum: 600000, unit: 'ms' },
  watchdogMs: { type: 'number', minimum: 0, unit: 'ms' },
} as const;


/** Config check every adapter factory runs: `address` is required (the schema cannot say it for one impl only). */
export function checkLinkSettings(config: Record<string, unknown>): { path: (string | number)[]; message: string }[] {
  return config.address === undefined ? [{ path: ['address'], message: 'required: tcp://HOST:PORT or serial:/dev/PATH' }] : [];
}
