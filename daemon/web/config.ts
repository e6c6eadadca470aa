/**
 * The `web` section of the config: where the browser view listens and how
 * much it may send to each browser (kept free of http/ws imports so loading a
 * config loads no server code).
 */

/** Default address of the web view: loopback only. */
export const DEFAULT_WEB_LISTEN = '127.0.0.1:8090';

/** JSON Schema of the `web` config section (config/schema.ts includes it). */
export const WEB_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true, description: 'Serve the browser view.' },
    listen: {
      type: 'string',
      pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$',
      default: DEFAULT_WEB_LISTEN,
      description: 'HOST:PORT (`qscope daemon --web ADDR` overrides; port 0: ephemeral). Non-loopback needs the token printed at start.',
    },
    allowedHosts: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 253 },
      description: 'Host names browsers may use besides the bound address and the machine’s own names (Host/Origin checks).',
    },
    maxFps: { type: 'number', exclusiveMinimum: 0, maximum: 240, default: 20, unit: '1/s', description: 'Updates per second sent to one browser.' },
    window: { type: 'integer', minimum: 1, maximum: 10000, default: 64, description: 'Binary messages in flight per browser before it acknowledges.' },
    maxBufferedBytes: { type: 'integer', minimum: 1024, default: 4 * 1024 * 1024, unit: 'B', description: 'Per-browser socket buffer above which nothing more is sent.' },
    maxClients: { type: 'integer', minimum: 1, maximum: 1000, default: 32 },
  },
} as const;

export interface WebOptions {
  enabled?: boolean;
  listen?: string;
  allowedHosts?: string[];
  maxFps?: number;
  window?: number;
  maxBufferedBytes?: number;
  maxClients?: number;
}

/** Splits `HOST:PORT` (`[::1]:8090` for IPv6); throws with a clear message. */
export function parseListen(addr: string): { host: string; port: number } {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(addr);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`web: listen address '${addr}' must be HOST:PORT (e.g. 127.0.0.1:8090, [::1]:8090, 0.0.0.0:8090)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
