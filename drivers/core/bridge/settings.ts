/** Config keys every `impl: bridge` instrument takes (docs/BRIDGE.md, "qscope's side"), and their checks. */
import type { InstrumentConfig } from '../registry.js';
import { isLocalEndpoint, type CurveKeys } from './link.js';

export interface BridgeSettings {
  /** The bridge's control endpoint (ROUTER). */
  endpoint: string;
  /** Instrument id in the bridge's hello; default: the only instrument of this kind. */
  instrument?: string;
  /** Wall-time allowance for a reply beyond the measurement's own duration, ms (5000). */
  deadlineMs?: number;
  /** Heartbeat period, ms (1000); the bridge is lost after 3 missed. */
  heartbeatMs?: number;
  curve?: CurveKeys;
}

const Z85_KEY = { type: 'string', pattern: '^[0-9a-zA-Z.\\-:+=^!/*?&<>()\\[\\]{}@%$#]{40}$' };

export const BRIDGE_SETTINGS_SCHEMA = {
  endpoint: { type: 'string', pattern: '^(tcp|ipc)://.+', description: "the bridge's control (ROUTER) endpoint" },
  instrument: { type: 'string', minLength: 1, description: "instrument id in the bridge's hello (default: the only one of this kind)" },
  deadlineMs: { type: 'number', exclusiveMinimum: 0, maximum: 600_000, unit: 'ms' },
  heartbeatMs: { type: 'number', minimum: 10, maximum: 60_000, unit: 'ms' },
  curve: {
    type: 'object',
    additionalProperties: false,
    required: ['serverKey', 'publicKey', 'secretKey'],
    properties: { serverKey: Z85_KEY, publicKey: Z85_KEY, secretKey: Z85_KEY },
  },
} as const;

export const BRIDGE_REQUIRED = ['endpoint'];

/** A bridge on another host needs CURVE keys (docs/BRIDGE.md, "Security"). */
export function checkBridgeSettings(c: InstrumentConfig): { path: (string | number)[]; message: string }[] {
  const endpoint = String(c.endpoint ?? '');
  if (endpoint && !isLocalEndpoint(endpoint) && !c.curve) return [{ path: ['endpoint'], message: `${endpoint} is not on this host: a remote bridge needs curve keys (serverKey, publicKey, secretKey)` }];
  return [];
}
