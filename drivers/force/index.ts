/** Force-sensor factories of kind `force` (registered in drivers/index.ts). */
import { instrumentSchema, type DriverFactory } from '../core/registry.js';
import { FAULT_SETTINGS_SCHEMA } from '../core/simulated.js';
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

/** `impl: bridge` — the resonator's lock-in behind a bridge (drivers/force/bridge.ts, docs/BRIDGE.md; e.g. a Zurich Instruments MFLI). */
export const forceBridgeFactory: DriverFactory = bridgeFactory(
  'force',
  async (id, settings, ctx) => {
    const { BridgeForce } = await import('./bridge.js');
    return new BridgeForce(id, ctx.clock, settings, ctx.world);
  },
  { spinCorrelationMs: { type: 'number', exclusiveMinimum: 0, unit: 'ms', description: 'τ_m of the sample spins (T_m/τ_m independent configurations per measurement)' } },
);
