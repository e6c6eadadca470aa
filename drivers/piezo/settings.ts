/** Settings of the simulated piezo (`impl: sim`) and their defaults. */
import type { FaultSettings } from '../core/simulated.js';
import type { Vec3 } from './interface.js';

/** Settings of `impl: sim` (the config entry, in config units). */
export interface PiezoSimSettings {
  /** Travel per axis, µm. */
  rangeUm: Vec3;
  /** Maximum speed per axis, µm/s. */
  maxVelocityUmPerS: number;
  /** On-target window, nm. */
  settleToleranceNm: number;
  /** Servo settling time constant, ms. */
  settleTimeConstantMs: number;
  /** Peak overshoot as a fraction of the step. */
  overshootFraction: number;
  /** Sensor noise of the read-back, nm RMS per axis. */
  positionNoiseNm: number;
  /** Rate of `position$`, Hz. */
  readoutHz: number;
  /** How often the controller's on-target flag is polled during a move, ms. */
  pollMs: number;
  /** Home position and power-on position, µm; default the middle of the travel. */
  homeUm?: Vec3;
  faults?: FaultSettings;
}

/** Defaults: a PI P-561.3CD on an E-712 (100 µm per axis, closed loop). */
export const PIEZO_SIM_DEFAULTS: PiezoSimSettings = {
  rangeUm: [100, 100, 100],
  maxVelocityUmPerS: 1000,
  settleToleranceNm: 5,
  settleTimeConstantMs: 2,
  overshootFraction: 0.02,
  positionNoiseNm: 0.3,
  readoutHz: 20,
  pollMs: 1,
};
