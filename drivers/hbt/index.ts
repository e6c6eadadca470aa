/**
 * Factories of kind `hbt` for the driver registry (drivers/index.ts) and the
 * `scene.emitters` config schema.
 */
import { instrumentSchema, type DriverFactory } from '../core/registry.js';
import { FAULT_SETTINGS_SCHEMA } from '../core/simulated.js';
import { bridgeFactory } from '../core/bridge/factory.js';

export type { HbtCorrelator, HistogramFields } from './interface.js';
export { EMITTER_SCENE_SCHEMA } from './scene.js';

/** `impl: sim` — the simulated correlator (drivers/hbt/sim.ts). */
export const hbtSimFactory: DriverFactory = {
  kind: 'hbt',
  impl: 'sim',
  schema: instrumentSchema('hbt', 'sim', {
    bins: { type: 'integer', minimum: 3, maximum: 65_536, unit: '1' },
    rangeNs: { type: 'number', exclusiveMinimum: 0, unit: 'ns' },
    zeroBin: { type: 'integer', minimum: 0, maximum: 65_535, unit: '1' },
    detectorJitterPs: { type: 'number', minimum: 0, unit: 'ps' },
    correlatorJitterPs: { type: 'number', minimum: 0, unit: 'ps' },
    efficiency: { type: 'number', exclusiveMinimum: 0, maximum: 1, unit: '1' },
    splitRatio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, unit: '1' },
    faults: FAULT_SETTINGS_SCHEMA,
  }),
  async create(id, config, ctx) {
    const { SimulatedHbt } = await import('./sim.js');
    const { kind: _kind, impl: _impl, ...settings } = config;
    return new SimulatedHbt(id, ctx.world, settings);
  },
};

/** `impl: bridge` — a time tagger behind a vendor-SDK bridge (drivers/hbt/bridge.ts, docs/BRIDGE.md). */
export const hbtBridgeFactory: DriverFactory = bridgeFactory('hbt', async (id, settings, ctx) => {
  const { BridgeHbt } = await import('./bridge.js');
  return new BridgeHbt(id, ctx.clock, settings);
});
