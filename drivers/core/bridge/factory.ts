/** The registry entry of an `impl: bridge` instrument of one kind: the shared settings schema and checks, lazy create. */
import type { Driver } from '../driver.js';
import { instrumentSchema, type DriverContext, type DriverFactory } from '../registry.js';
import { BRIDGE_SETTINGS_SCHEMA, checkBridgeSettings, type BridgeSettings } from './settings.js';

export function bridgeFactory(kind: string, create: (id: string, settings: BridgeSettings, ctx: DriverContext) => Promise<Driver>, extra: Record<string, unknown> = {}): DriverFactory {
  return {
    kind,
    impl: 'bridge',
    schema: { ...instrumentSchema(kind, 'bridge', { ...BRIDGE_SETTINGS_SCHEMA, ...extra }), required: ['kind', 'impl', 'endpoint'] },
    check: checkBridgeSettings,
    async create(id, config, ctx) {
      const { kind: _k, impl: _i, ...settings } = config;
      return create(id, settings as unknown as BridgeSettings, ctx);
    },
  };
}
