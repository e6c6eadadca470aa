/**
 * Every instrument kind the daemon can build from config. Each instrument
 * folder exports its factories (schema + lazy create) from
 * `drivers/<kind>/index.ts`; add one line per factory below.
 */
import { DriverRegistry } from './core/registry.js';

export function createDefaultRegistry(): DriverRegistry {
  const registry = new DriverRegistry();
  // ---- one line per instrument implementation ----
  return registry;
}
