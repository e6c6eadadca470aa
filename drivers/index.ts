/**
 * Every instrument kind the daemon can build from config. Each instrument
 * folder exports its factories (schema + lazy create) from
 * `drivers/<kind>/index.ts`; add one line per factory below.
 */
import { DriverRegistry } from './core/registry.js';
import { rfScpiFactory, rfSimFactory } from './rf/index.js';
import { odmrSimFactory } from './odmr/index.js';
import { piezoPiGcsFactory, piezoSimFactory } from './piezo/index.js';
import { hbtBridgeFactory, hbtSimFactory } from './hbt/index.js';
import { cameraBridgeFactory, cameraSimFactory } from './camera/index.js';
import { forceBridgeFactory, forceSimFactory, forceSr830Factory } from './force/index.js';

export function createDefaultRegistry(): DriverRegistry {
  const registry = new DriverRegistry();
  // ---- one line per instrument implementation ----
  registry.register(rfSimFactory);
  registry.register(rfScpiFactory);
  registry.register(odmrSimFactory);
  registry.register(piezoSimFactory);
  registry.register(piezoPiGcsFactory);
  registry.register(hbtSimFactory);
  registry.register(hbtBridgeFactory);
  registry.register(cameraSimFactory);
  registry.register(cameraBridgeFactory);
  registry.register(forceSimFactory);
  registry.register(forceSr830Factory);
  registry.register(forceBridgeFactory);
  return registry;
}
