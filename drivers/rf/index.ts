/** rf pulse generator factories (registered in drivers/index.ts). */
import { FAULT_SETTINGS_SCHEMA } from '../core/simulated.js';
import { instrumentSchema, type DriverFactory } from '../core/registry.js';
import { LINK_SETTINGS_SCHEMA, checkLinkSettings } from '../core/io/address.js';

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

/** `impl: scpi-rf` — an R&S, Keysight or SG384 rf source over TCP (5025) or serial (drivers/rf/scpi/). */
export const rfScpiFactory: DriverFactory = {
  kind: 'rf',
  impl: 'scpi-rf',
  schema: instrumentSchema('rf', 'scpi-rf', {
    ...LINK_SETTINGS_SCHEMA,
    dialect: { enum: ['rs', 'keysight', 'sg384'], description: 'Command set: rs (SMB100A, SGS100A), keysight (N518x MXG), sg384 (SRS SG384).' },
    powerDbm: { type: 'number', minimum: -140, maximum: 30, unit: 'dBm' },
    maxBandwidthHz: { type: 'number', minimum: 0, unit: 'Hz', description: 'Widest pulse accepted (played as CW at its centre); default 0.' },
    frequencyHz: { type: 'array', items: { type: 'number', minimum: 0, unit: 'Hz' }, minItems: 2, maxItems: 2 },
    hardwareInTheLoop: { type: 'boolean', description: 'Publish the armed table into the simulated world.' },
  }),
  check: (c) => [...checkLinkSettings(c), ...(c.dialect === undefined ? [{ path: ['dialect'], message: 'required: rs, keysight or sg384' }] : [])],
  async create(id, cfg, ctx) {
    const { ScpiRf } = await import('./scpi/driver.js');
    const { kind: _k, impl: _i, ...settings } = cfg;
    return new ScpiRf(id, ctx.clock, settings as never, ctx.world, ctx.log);
  },
};
