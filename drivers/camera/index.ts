/**
 * Factories of kind `camera` for the driver registry (drivers/index.ts) and
 * the `scene.magnetic` config schema. Real adapters (vendor-SDK bridge, GigE
 * Vision) register their own `impl` here.
 */
import { instrumentSchema, type DriverFactory } from '../core/registry.js';
import { FAULT_SETTINGS_SCHEMA } from '../core/simulated.js';
import { bridgeFactory } from '../core/bridge/factory.js';

export type { Camera, CameraFrameFields, CameraMode, CameraRoi, CameraSensor, CameraCalibration, SnapOptions, SpinComponent } from './interface.js';
export { MODE_COMPONENTS, CAMERA_CHANNELS, CAMERA_COMMANDS, roiProblem, frameShape } from './interface.js';
export { MAGNETIC_SCENE_SCHEMA } from './scene.js';

const PX = { type: 'integer', minimum: 0, unit: 'px' } as const;

/** `impl: sim` — the simulated Kerr/SPLEEM camera (drivers/camera/sim.ts). */
export const cameraSimFactory: DriverFactory = {
  kind: 'camera',
  impl: 'sim',
  schema: instrumentSchema('camera', 'sim', {
    mode: { enum: ['kerr', 'spleem'], description: 'kerr: S_z contrast; spleem: S_x, S_y, S_z' },
    sensorPx: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'integer', minimum: 1, maximum: 16384, unit: 'px' }, description: 'sensor [width, height]' },
    pixelSizeNm: { type: 'number', exclusiveMinimum: 0, unit: 'nm', description: 'one sensor pixel in the sample plane' },
    roi: { type: 'array', minItems: 4, maxItems: 4, items: PX, description: '[x, y, width, height], unbinned pixels' },
    binning: { type: 'integer', minimum: 1, maximum: 64, unit: '1' },
    photonRatePerMs: { type: 'number', exclusiveMinimum: 0, unit: 'e-/ms' },
    kerrContrast: { type: 'number', exclusiveMinimum: 0, maximum: 1, unit: '1' },
    background: { type: 'number', minimum: 0, unit: 'counts' },
    readNoise: { type: 'number', minimum: 0, unit: 'counts' },
    illuminationNonUniformity: { type: 'number', minimum: 0, maximum: 1, unit: '1' },
    noiseAt1ms: { type: 'number', minimum: 0, unit: '1' },
    faults: FAULT_SETTINGS_SCHEMA,
  }),
  async create(id, config, ctx) {
    const { SimulatedCamera } = await import('./sim.js');
    const { kind: _kind, impl: _impl, ...settings } = config;
    return new SimulatedCamera(id, ctx.world, settings);
  },
};

/** `impl: bridge` — a GenICam / vendor-SDK camera behind a bridge (drivers/camera/bridge.ts, docs/BRIDGE.md). */
export const cameraBridgeFactory: DriverFactory = bridgeFactory('camera', async (id, settings, ctx) => {
  const { BridgeCamera } = await import('./bridge.js');
  return new BridgeCamera(id, ctx.clock, settings, ctx.world);
});
