/**
 * An SR830 / SR860 lock-in as a dialogue table: reference frequency, time
 * constant and sensitivity indices with their ranges, and `SNAP? 1,2`
 * answering seeded Gaussian X, Y (V) whose spreads are set in the device
 * state (`sdX` > `sdY`: a spin signal in the in-phase quadrature).
 */
import { Rng } from '../../core/rng.js';
import { DeviceError, property, type DeviceState, type DialogueTable } from '../../core/io/emulator.js';
import { REPLY_EOL, SENS_COMMAND, SENSITIVITIES_V, TIME_CONSTANTS_S, type LockinModel } from './protocol.js';

export interface LockinDevice extends DeviceState {
  freq: number;
  oflt: number;
  sens: number;
  /** Spread of X and Y per sample, V. */
  sdX: number;
  sdY: number;
  rng: Rng;
  samples: number;
}

export const LOCKIN_IDN: Record<LockinModel, string> = {
  sr830: 'Stanford_Research_Systems,SR830,s/n00000,ver1.07 (qscope emulator)',
  sr860: 'Stanford_Research_Systems,SR860,000000,v1.51 (qscope emulator)',
};

const fmt = (v: number) => v.toExponential(6);

export function lockinTable(model: LockinModel, seed = 1): DialogueTable {
  const sens = SENS_COMMAND[model];
  return {
    name: model,
    eol: REPLY_EOL[model],
    unknownCommandError: 1,
    init: (): LockinDevice => ({ errors: [], freq: 1000, oflt: 8, sens: model === 'sr830' ? 20 : 6, sdX: 2e-6, sdY: 1e-6, rng: Rng.derive(seed, model), samples: 0 }),
    entries: [
      { match: /^\*IDN\?$/, reply: () => LOCKIN_IDN[model] },
      ...property({ get: /^FREQ\?$/, set: /^FREQ (\S+)$/, key: 'freq', min: 1e-3, max: model === 'sr830' ? 102e3 : 500e3, rangeError: 2, format: fmt }),
      ...property({ get: /^OFLT\?$/, set: /^OFLT (\S+)$/, key: 'oflt', min: 0, max: TIME_CONSTANTS_S[model].length - 1, rangeError: 2 }),
      ...property({ get: new RegExp(`^${sens}\\?$`), set: new RegExp(`^${sens} (\\S+)$`), key: 'sens', min: 0, max: SENSITIVITIES_V[model].length - 1, rangeError: 2 }),
      {
        match: /^SNAP\?\s*1,2$/,
        reply: (_m, d) => {
          const dev = d as LockinDevice;
          dev.samples++;
          return `${fmt(dev.rng.normal(0, dev.sdX))},${fmt(dev.rng.normal(0, dev.sdY))}`;
        },
      },
      {
        match: /^OUTP\?\s*([1-4])$/,
        reply: (m, d) => {
          const dev = d as LockinDevice;
          if (m[1] === '1') return fmt(dev.rng.normal(0, dev.sdX));
          if (m[1] === '2') return fmt(dev.rng.normal(0, dev.sdY));
          throw new DeviceError(2);
        },
      },
    ],
  };
}
