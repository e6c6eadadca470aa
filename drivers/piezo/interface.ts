/**
 * The piezo scanner: a closed-loop 3-axis nanopositioning stage (modelled on
 * a PI P-561 with an E-712 digital controller: 100 µm travel per axis,
 * capacitive sensors, nm-level position noise). Every implementation of
 * kind `piezo` (simulator, real adapters) offers this interface; the contract
 * suite test/drivers/piezo/contract.test.ts runs against each of them.
 *
 * Coordinates are stage coordinates in nm, each axis from 0 to its travel.
 */
import type { Observable } from 'rxjs';
import type { ChannelSpec, CommandSpec, Driver } from '../core/driver.js';
import type { Frame } from '../core/frame.js';

/** (x, y, z) in nm. */
export type Vec3 = [number, number, number];

export interface MoveOptions {
  /** Aborting stops the stage where it is and rejects with AbortedError. */
  signal?: AbortSignal;
}

export interface PiezoScanner extends Driver {
  readonly kind: 'piezo';
  /** Travel per axis in nm: valid targets are 0 ≤ p ≤ rangeNm[axis]. */
  readonly rangeNm: Readonly<Vec3>;
  /** Maximum speed per axis, nm per ms. */
  readonly maxVelocityNmPerMs: number;
  /** A move is settled when every axis stays within this distance of its target, nm. */
  readonly settleToleranceNm: number;
  /**
   * Moves to (x, y, z) nm and resolves, with the read-back position, once the
   * controller reports the stage on target (within `settleToleranceNm`).
   * Rejects with OutOfRangeError (nothing moves) for a target outside the
   * travel, BusyError while another move runs, DisconnectedError (and the
   * driver enters `fault`) when the controller drops mid-move.
   */
  moveTo(x: number, y: number, z: number, opts?: MoveOptions): Promise<Vec3>;
  /** Moves to the configured home position (default: the middle of the travel). */
  home(opts?: MoveOptions): Promise<Vec3>;
  /** The sensor read-back now, nm (true position plus sensor noise). */
  position(): Vec3;
  /**
   * Position read-back frames at the configured rate while connected:
   * stream `<id>.position`, f64 payload [x, y, z] nm, header field `onTarget`.
   */
  readonly position$: Observable<Frame<Float64Array>>;
}

/** Channels every piezo declares. */
export const PIEZO_CHANNELS: ChannelSpec[] = [
  { name: 'position', dtype: 'f64', unit: 'nm', access: 'stream', description: 'sensor read-back [x, y, z]; header field onTarget' },
  { name: 'target', dtype: 'f64', unit: 'nm', access: 'write', description: 'commanded target [x, y, z] (moveTo)' },
];

const NM = { type: 'number', unit: 'nm' } as const;

/** Commands callable through the API (`instruments.call`); implemented as `command_<name>`. */
export const PIEZO_COMMANDS: Record<string, CommandSpec> = {
  moveTo: {
    description: 'Move to (x, y, z) nm; returns the read-back position once settled.',
    params: { type: 'object', additionalProperties: false, required: ['x', 'y', 'z'], properties: { x: NM, y: NM, z: NM } },
    mutating: true,
  },
  home: {
    description: 'Move to the home position; returns the read-back position once settled.',
    params: { type: 'object', additionalProperties: false, properties: {} },
    mutating: true,
  },
  position: {
    description: 'Read the position, nm.',
    params: { type: 'object', additionalProperties: false, properties: {} },
    mutating: false,
  },
};
