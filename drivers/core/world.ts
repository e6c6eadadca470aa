/**
 * The simulated world: one seeded sample scene per rig, shared by its
 * simulated instruments. The piezo writes the focus position into the world
 * state; the correlator or camera reads what the scene looks like there; the
 * rf pulse generator writes its pulse table; the ODMR readout or force sensor
 * reads it. Owner: foundation (DESIGN.md, "simulated world").
 *
 * The seam: a simulated driver never computes a measurement directly; it asks
 * `world.measure(stream, compute)`. A live world runs `compute` (the physics);
 * the replay source (drivers/replay/) stands in for the world and returns the
 * recorded measurement instead, so the same driver code plays a session back.
 */
import type { Clock } from './clock.js';
import type { Payload } from './frame.js';
import { Rng } from './rng.js';

/** One measurement as the physics (or the recording) gives it. */
export interface Measurement<P extends Payload = Payload> {
  payload: P;
  /** Payload shape (C order); default `[payload.length]`. */
  shape?: number[];
  /** Kind-specific header fields (JSON-serialisable). */
  fields?: Record<string, unknown>;
}

/**
 * Physical state the instruments share. Each instrument kind owns its field
 * and documents its units; readers must treat a missing field as "not set".
 */
export interface WorldState {
  /** Focus position written by the piezo scanner, in nm (x, y, z). */
  focusNm?: [number, number, number];
  [field: string]: unknown;
}

export interface MeasurementSource {
  /** The next measurement on `stream`: computed live, or read from a recording. */
  measure<P extends Payload>(stream: string, compute: () => Measurement<P>): Measurement<P>;
}

export interface WorldOptions {
  seed: number;
  clock: Clock;
  /** Scene parameters from the config, keyed by scene name (e.g. `emitters`, `nuclei`). */
  scene?: Record<string, unknown>;
}

export class SimWorld implements MeasurementSource {
  readonly seed: number;
  readonly clock: Clock;
  readonly state: WorldState = {};
  /** Scene parameters from the config, for scene builders. */
  readonly sceneConfig: Record<string, unknown>;
  private readonly scenes = new Map<string, unknown>();

  constructor(opts: WorldOptions) {
    if (!Number.isInteger(opts.seed)) throw new RangeError(`seed: must be an integer, got ${opts.seed}`);
    this.seed = opts.seed;
    this.clock = opts.clock;
    this.sceneConfig = opts.scene ?? {};
  }

  /** An independent, reproducible generator for one consumer (an instrument id, a scene name). */
  rng(name: string): Rng {
    return Rng.derive(this.seed, name);
  }

  /**
   * The scene part `name`, built once per world from its config and its own
   * seeded generator, then shared by every instrument that asks for it.
   */
  scene<T>(name: string, build: (config: unknown, rng: Rng) => T): T {
    if (!this.scenes.has(name)) this.scenes.set(name, build(this.sceneConfig[name], this.rng(`scene/${name}`)));
    return this.scenes.get(name) as T;
  }

  measure<P extends Payload>(_stream: string, compute: () => Measurement<P>): Measurement<P> {
    return compute();
  }
}
