/** The `sessions` section of the config (owner: engine & store). See docs/decisions/0502. */
import { DEFAULT_LIMITS } from './writer.js';
import type { StoreOptions } from './store.js';

export interface SessionsConfig {
  /** Where session files go (relative to the working directory). */
  dir: string;
  durability: 'normal' | 'full';
  /** With `normal`: a WAL checkpoint (and sync) at least this often while recording, ms. */
  checkpointIntervalMs: number;
  /** Recording refuses to start, and stops cleanly, below this much free disk, MiB. */
  minFreeMiB: number;
}

export const SESSIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    dir: { type: 'string', minLength: 1, default: './sessions', description: 'Directory of the session files (one SQLite file per session).' },
    durability: {
      enum: ['normal', 'full'],
      default: 'normal',
      description: 'normal: WAL synced at checkpoints (power loss can lose up to checkpointIntervalMs of data); full: synced at every commit.',
    },
    checkpointIntervalMs: { type: 'number', unit: 'ms', minimum: 10, default: 1000, description: 'Bound on what a power failure can take with durability normal.' },
    minFreeMiB: { type: 'number', unit: 'MiB', minimum: 0, default: 256, description: 'Free disk space kept; recording stops cleanly below it.' },
  },
} as const;

export const DEFAULT_SESSIONS_CONFIG: SessionsConfig = { dir: './sessions', durability: 'normal', checkpointIntervalMs: 1000, minFreeMiB: 256 };

export function storeOptions(c: Partial<SessionsConfig> = {}): Partial<StoreOptions> {
  const s = { ...DEFAULT_SESSIONS_CONFIG, ...c };
  return { durability: s.durability, checkpointIntervalMs: s.checkpointIntervalMs, limits: { ...DEFAULT_LIMITS, minFreeBytes: Math.round(s.minFreeMiB * 2 ** 20) } };
}
