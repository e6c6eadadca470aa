/** rf pulse generator factories (registered in drivers/index.ts). */
import { FAULT_SETTINGS_SCHEMA } from '../core/simulated.js';
import { instrumentSchema, type DriverFactory } from '../core/registry.js';

export type { RfPulse, RfLimits, RfPulseGenerator, RfTableState } from './rf.js';
export { inversionHalfWidthHz, inversionPulses } from './rf.js';

export const rfSimFactory: DriverFactory = {
  kind: 'rf',
  impl: 'sim',
  schema: instrumentSchema('rf', 'sim', {
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        frequencyHz: { type: 'array', items: { type: 'number', minimum: 0, unit: 'Hz' }, minItems: 2, maxItems: 2 },
        maxBandwidthHz: { type: 'number', exclusiveMinimum: 0, unit: 'Hz' },
        durationUs: { type: 'array', items: { type: 'number', minimum: 0, unit: 'us' }, minItems: 2, maxItems: 2 },
        maxPulses: { type: 'integer', minimum: 1, maximum: 65_536 },
      },
    },
    faults: FAULT_SETTINGS_SCHEMA,
  }),
  async create(id, cfg, ctx) {
    const { SimulatedRf } = await import('./sim.js');
    return new SimulatedRf(id, ctx.world, { limits: cfg.limits as never, faults: cfg.faults as never });
  },
};
