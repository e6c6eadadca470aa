/**
 * The `api` section of the config (kept free of zeromq imports so that
 * loading a config does not load the socket library).
 */
import { DEFAULT_CONTROL, DEFAULT_DATA } from './protocol.js';

/** JSON Schema of the `api` config section (daemon/config.ts includes it). */
export const API_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    control: { type: 'string', pattern: '^[a-z]+://', default: DEFAULT_CONTROL, description: 'Control ROUTER endpoint; non-loopback needs curve.' },
    data: { type: 'string', pattern: '^[a-z]+://', default: DEFAULT_DATA, description: 'Data PUB endpoint; non-loopback needs curve.' },
    curve: {
      type: 'object',
      additionalProperties: false,
      properties: {
        publicKey: { type: 'string', minLength: 40, maxLength: 40 },
        secretKey: { type: 'string', minLength: 40, maxLength: 40 },
        secretKeyFile: { type: 'string', minLength: 1 },
        allow: { type: 'array', maxItems: 10_000, items: { type: 'string', minLength: 40, maxLength: 40 } },
        allowFiles: { type: 'array', maxItems: 10_000, items: { type: 'string', minLength: 1 } },
      },
    },
    maxRequestBytes: { type: 'integer', minimum: 1024, maximum: 256 * 1024 * 1024 },
    maxReplyBytes: { type: 'integer', minimum: 1024, maximum: 1024 * 1024 * 1024 },
    maxInFlight: { type: 'integer', minimum: 1, maximum: 100000 },
    replyHighWaterMark: { type: 'integer', minimum: 1, maximum: 10_000, description: 'Replies libzmq holds for one client before it counts as blocked.' },
    maxClientReplyBytes: { type: 'integer', minimum: 1024, maximum: 4 * 1024 * 1024 * 1024, description: 'Unsent reply bytes one client may have waiting before it is dropped.' },
    dropAfterMs: { type: 'integer', minimum: 0, maximum: 3_600_000, description: 'A client whose replies stay blocked this long is dropped.' },
    dataHighWaterMark: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    dataQueueCapacity: { type: 'integer', minimum: 1, maximum: 10_000_000 },
    lingerMs: { type: 'integer', minimum: 0, maximum: 60000 },
  },
} as const;
