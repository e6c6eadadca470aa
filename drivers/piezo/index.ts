/**
 * Factories of kind `piezo` for the driver registry (drivers/index.ts): the
 * config schema of each implementation, and a lazy import of its code.
 */
import { instrumentSchema, type DriverFactory } from '../core/registry.js';
import { FAULT_SETTINGS_SCHEMA } from '../core/simulated.js';
import { LINK_SETTINGS_SCHEMA, checkLinkSettings } from '../core/io/address.js';
import { PIEZO_SIM_DEFAULTS } from './settings.js';

export type { PiezoScanner, Vec3, MoveOptions } from './interface.js';

const VEC3_UM = (min: 'exclusiveMinimum' | 'minimum') => ({
  type: 'array',
  minItems: 3,
  maxItems: 3,
  items: { type: 'number', [min]: 0, unit: 'µm' },
});

/** `impl: sim` — the simulated stage (drivers/piezo/sim.ts). */
export const piezoSimFactory: DriverFactory = {
  kind: 'piezo',
  impl: 'sim',
  schema: instrumentSchema('piezo', 'sim', {
    rangeUm: { ...VEC3_UM('exclusiveMinimum'), description: 'Travel per axis [x, y, z].' },
    maxVelocityUmPerS: { type: 'number', exclusiveMinimum: 0, unit: 'µm/s' },
    settleToleranceNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
    settleTimeConstantMs: { type: 'number', exclusiveMinimum: 0, unit: 'ms' },
    overshootFraction: { type: 'number', minimum: 0, exclusiveMaximum: 1, unit: '1' },
    positionNoiseNm: { type: 'number', minimum: 0, unit: 'nm' },
    readoutHz: { type: 'number', exclusiveMinimum: 0, maximum: 10000, unit: 'Hz' },
    pollMs: { type: 'number', exclusiveMinimum: 0, unit: 'ms' },
    homeUm: { ...VEC3_UM('minimum'), description: 'Home and power-on position [x, y, z]; default the middle of the travel.' },
    faults: FAULT_SETTINGS_SCHEMA,
  }),
  check(config) {
    const range = (config.rangeUm as number[] | undefined) ?? PIEZO_SIM_DEFAULTS.rangeUm;
    const home = config.homeUm as number[] | undefined;
    return (home ?? [])
      .map((h, i) => ({ h, i }))
      .filter(({ h, i }) => h > range[i]!)
      .map(({ h, i }) => ({ path: ['homeUm', i], message: `must be ≤ rangeUm[${i}] (${range[i]}), got ${h}` }));
  },
  async create(id, config, ctx) {
    const { SimulatedPiezo } = await import('./sim.js');
    const { kind: _kind, impl: _impl, ...settings } = config;
    return new SimulatedPiezo(id, ctx.world, settings);
  },
};

/** `impl: pi-gcs` — a PI GCS 2.0 controller over TCP or serial (drivers/piezo/pi-gcs/). */
export const piezoPiGcsFactory: DriverFactory = {
  kind: 'piezo',
  impl: 'pi-gcs',
  schema: instrumentSchema('piezo', 'pi-gcs', {
    ...LINK_SETTINGS_SCHEMA,
    axes: {
      type: 'object',
      additionalProperties: false,
      required: ['x', 'y', 'z'],
      properties: { x: { type: 'string', minLength: 1 }, y: { type: 'string', minLength: 1 }, z: { type: 'string', minLength: 1 } },
      description: 'Stage axis → controller axis name (GCS: "1", "2", "3" or "A", "B", "C").',
    },
    servoOnConnect: { type: 'boolean', description: 'Switch the servo on at the first connect (never on a reconnect).' },
    settleToleranceNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm' },
    readoutHz: { type: 'number', exclusiveMinimum: 0, maximum: 1000, unit: 'Hz' },
    pollMs: { type: 'number', minimum: 0, unit: 'ms' },
    hardwareInTheLoop: { type: 'boolean', description: 'Write the read-back position into the simulated world (real stage, simulated detectors).' },
    homeUm: { ...VEC3_UM('minimum'), description: 'Home position [x, y, z]; default the middle of the travel.' },
  }),
  check: checkLinkSettings,
  async create(id, config, ctx) {
    const { PiGcsPiezo } = await import('./pi-gcs/driver.js');
    const { kind: _kind, impl: _impl, ...settings } = config;
    return new PiGcsPiezo(id, ctx.clock, settings as never, ctx.world, ctx.log);
  },
};
