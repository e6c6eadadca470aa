/**
 * The driver registry: builds drivers from the `instruments` section of the
 * config. Each (kind, impl) pair registers its config schema eagerly and its
 * implementation lazily, so only the adapters a rig uses are ever loaded
 * (a real serial adapter is not imported on a simulated rig).
 */
import type { Clock } from './clock.js';
import type { Driver } from './driver.js';
import type { Logger } from './log.js';
import { DriverError } from './errors.js';
import type { SimWorld } from './world.js';

export interface DriverContext {
  clock: Clock;
  /** The rig's simulated world (or the replay source standing in for it). */
  world: SimWorld;
  /** The daemon's logger (real adapters log every byte at debug level through a child). */
  log?: Logger;
}

/** What the config says of one instrument: `kind`, `impl`, and the implementation's own settings. */
export interface InstrumentConfig {
  kind: string;
  impl: string;
  [setting: string]: unknown;
}

export interface DriverFactory {
  kind: string;
  impl: string;
  /** JSON Schema of this implementation's settings (the whole instrument entry, `kind` and `impl` included). */
  schema: Record<string, unknown>;
  /**
   * Optional checks the schema cannot express (one setting against another),
   * run by the config validator after the schema passed; paths are relative
   * to the instrument entry, e.g. `{ path: ['homeUm', 0], message: 'must be ≤ rangeUm[0] (100)' }`.
   */
  check?(config: InstrumentConfig): { path: (string | number)[]; message: string }[];
  /** Loads the implementation and builds one driver. */
  create(id: string, config: InstrumentConfig, ctx: DriverContext): Promise<Driver>;
}

export class DriverRegistry {
  private readonly factories = new Map<string, DriverFactory>();

  register(factory: DriverFactory): this {
    const key = `${factory.kind}/${factory.impl}`;
    if (this.factories.has(key)) throw new Error(`driver ${key} registered twice`);
    this.factories.set(key, factory);
    return this;
  }

  get(kind: string, impl: string): DriverFactory | undefined {
    return this.factories.get(`${kind}/${impl}`);
  }

  /** Every registered (kind, impl), for schemas and `--help`. */
  list(): DriverFactory[] {
    return [...this.factories.values()];
  }

  /** Builds every configured instrument; the map preserves config order. */
  async build(instruments: Record<string, InstrumentConfig>, ctx: DriverContext): Promise<Map<string, Driver>> {
    const out = new Map<string, Driver>();
    for (const [id, cfg] of Object.entries(instruments)) {
      const factory = this.get(cfg.kind, cfg.impl);
      if (!factory) throw new DriverError('CONFIG', id, `no driver for kind '${cfg.kind}' with impl '${cfg.impl}'`);
      out.set(id, await factory.create(id, cfg, ctx));
    }
    return out;
  }
}

/**
 * JSON Schema of one instrument entry: `kind` and `impl` fixed, no other keys
 * than `settings` (so a misspelled setting is refused by name).
 */
export function instrumentSchema(kind: string, impl: string, settings: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'impl'],
    properties: { kind: { const: kind }, impl: { const: impl }, ...settings },
  };
}
