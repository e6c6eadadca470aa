/** Force-sensor factories of kind `force` (registered in drivers/index.ts). */
import { instrumentSchema, type DriverFactory } from '../core/registry.js';
import { FAULT_SETTINGS_SCHEMA } from '../core/simulated.js';
import { LINK_SETTINGS_SCHEMA, checkLinkSettings } from '../core/io/address.js';
import { bridgeFactory } from '../core/bridge/factory.js';
import { FORCE_SETTINGS_SCHEMA } from './interface.js';

export type { ForceSensor, ForceSensorSettings, QuadratureFields, ResonatorGeometry, VarianceFields, VarianceRequest } from './interface.js';
export { checkForceSettings, checkVarianceRequest, DEFAULT_FORCE_SETTINGS, FORCE_CHANNELS, FORCE_COMMANDS, FORCE_SETTINGS_SCHEMA, inMinusOut, RESONATOR_GEOMETRIES } from './interface.js';

/** `impl: sim` — the simulated resonator + lock-in (drivers/force/sim.ts). */
export const forceSimFactory: DriverFactory = {
  kind: 'force',
  impl: 'sim',
  schema: instrumentSchema('force', 'sim', {
    ...FORCE_SETTINGS_SCHEMA,
    rf: { type: 'string', description: 'id of the rf generator playing the inversion pulses (default: any armed one)' },
    spinCorrelationMs: { type: 'number', exclusiveMinimum: 0, unit: 'ms', description: 'τ_m of the sample spins (T_m/τ_m independent configurations per measurement)' },
    faults: FAULT_SETTINGS_SCHEMA,
  }),
  async create(id, config, ctx) {
    const { SimulatedForce } = await import('./sim.js');
    const { kind: _kind, impl: _impl, ...settings } = config;
    return new SimulatedForce(id, ctx.world, settings as never);
  },
};

/** `impl: sr830` — an SRS SR830 / SR860 lock-in reading the resonator (drivers/force/sr830/). */
export const forceSr830Factory: DriverFactory = {
  kind: 'force',
  impl: 'sr830',
  schema: instrumentSchema('force', 'sr830', {
    ...LINK_SETTINGS_SCHEMA,
    ...FORCE_SETTINGS_SCHEMA,
    model: { enum: ['sr830', 'sr860'] },
    anPerVolt: { type: 'number', exclusiveMinimum: 0, unit: 'aN/V', description: 'Force per volt of X/Y at the lock-in (the resonator calibration).' },
    timeConstantS: { type: 'number', exclusiveMinimum: 0, unit: 's', description: 'Applied at the first connect (rounded up to the lock-in table).' },
    sensitivityV: { type: 'number', exclusiveMinimum: 0, unit: 'V' },
    referenceHz: { type: 'number', exclusiveMinimum: 0, unit: 'Hz' },
  }),
  check: (c) => [...checkLinkSettings(c), ...(c.anPerVolt === undefined ? [{ path: ['anPerVolt'], message: 'required: force per volt of X/Y, aN/V' }] : [])],
  async create(id, config, ctx) {
    const { Sr830Force } = await import('./sr830/driver.js');
    const { kind: _kind, impl: _impl, ...settings } = config;
    return new Sr830Force(id, ctx.clock, settings as never, ctx.log);
  },
};
/** `impl: bridge` — the resonator's lock-in behind a bridge (drivers/force/bridge.ts, docs/BRIDGE.md; e.g. a Zurich Instruments MFLI). */
export const forceBridgeFactory: DriverFactory = bridgeFactory(
  'force',
  async (id, settings, ctx) => {
    const { BridgeForce } = await import('./bridge.js');
    return new BridgeForce(id, ctx.clock, settings, ctx.world);
  },
  { spinCorrelationMs: { type: 'number', exclusiveMinimum: 0, unit: 'ms', description: 'τ_m of the sample spins (T_m/τ_m independent configurations per measurement)' } },
);
