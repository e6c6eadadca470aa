/** NV ODMR readout factories (registered in drivers/index.ts). */
import { FAULT_SETTINGS_SCHEMA } from '../core/simulated.js';
import { instrumentSchema, type DriverFactory } from '../core/registry.js';

export type { CorrelationPoint, OdmrReadout } from './odmr.js';

export const odmrSimFactory: DriverFactory = {
  kind: 'odmr',
  impl: 'sim',
  schema: instrumentSchema('odmr', 'sim', {
    rf: { type: 'string', description: 'id of the rf generator carrying the nuclear π/2 pulse (default: any)' },
    overheadUs: { type: 'number', minimum: 0, unit: 'us', description: 'sequence time per readout besides t1 + t2' },
    physics: {
      type: 'object',
      additionalProperties: false,
      properties: {
        fieldT: { type: 'number', exclusiveMinimum: 0, unit: 'T' },
        ms: { enum: [-1, 0, 1] },
        t2CoherenceS: { type: 'number', exclusiveMinimum: 0, unit: 's' },
        contrast: { type: 'number', minimum: 0, maximum: 1, unit: '1' },
      },
    },
    readout: {
      type: 'object',
      additionalProperties: false,
      properties: {
        photonsMs0: { type: 'number', exclusiveMinimum: 0, unit: 'photons' },
        photonsMs1: { type: 'number', minimum: 0, unit: 'photons' },
        readouts: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
      },
    },
    faults: FAULT_SETTINGS_SCHEMA,
  }),
  async create(id, cfg, ctx) {
    const { SimulatedOdmr } = await import('./sim.js');
    return new SimulatedOdmr(id, ctx.world, { rf: cfg.rf as string | undefined, overheadUs: cfg.overheadUs as number | undefined, physics: cfg.physics as never, readout: cfg.readout as never, faults: cfg.faults as never });
  },
};
