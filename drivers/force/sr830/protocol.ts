/**
 * SRS SR830 / SR860 lock-in amplifiers: the parts of their command sets the
 * force-sensor adapter uses. Both: `*IDN?`, `FREQ`/`FREQ?` (reference, Hz),
 * `OFLT`/`OFLT?` (time constant index), `SNAP? 1,2` (X and Y together, V),
 * `OUTP? 1|2`. Sensitivity: SR830 `SENS i` (0 = 2 nV … 26 = 1 V, rising),
 * SR860 `SCAL i` (0 = 1 V … 27 = 1 nV, falling). The time-constant tables
 * differ by two entries (SR860 starts at 1 µs). SR830 over RS-232 ends its
 * replies with CR, the SR860 (Ethernet, TCP 5025) with LF. Neither has a
 * SCPI error queue: a setting is checked by reading it back.
 */
export type LockinModel = 'sr830' | 'sr860';

const TAU_1_3 = (from: number, n: number) => Array.from({ length: n }, (_, i) => Number((from * 10 ** Math.floor(i / 2) * (i % 2 ? 3 : 1)).toPrecision(6)));

/** Time constant per OFLT index, s. */
export const TIME_CONSTANTS_S: Record<LockinModel, number[]> = {
  sr830: TAU_1_3(10e-6, 20), // 10 µs … 30 ks
  sr860: TAU_1_3(1e-6, 22), // 1 µs … 30 ks
};

const SENS_125 = (from: number, n: number) => Array.from({ length: n }, (_, i) => Number((from * 10 ** Math.floor(i / 3) * [1, 2, 5][i % 3]!).toPrecision(6)));

/** Full-scale sensitivity per SENS (SR830) / SCAL (SR860) index, V. */
export const SENSITIVITIES_V: Record<LockinModel, number[]> = {
  sr830: Array.from({ length: 27 }, (_, i) => Number(([2, 5, 10][i % 3]! * 1e-9 * 10 ** Math.floor(i / 3)).toPrecision(6))), // 2 nV … 1 V
  sr860: SENS_125(1e-9, 28).reverse(), // 1 V … 1 nV
};

export const SENS_COMMAND: Record<LockinModel, string> = { sr830: 'SENS', sr860: 'SCAL' };
export const REPLY_EOL: Record<LockinModel, string> = { sr830: '\r', sr860: '\n' };

/** Index of the smallest table entry ≥ `value` (the last one when none is). */
export function indexAtLeast(table: number[], value: number): number {
  let best = -1;
  let largest = 0;
  table.forEach((v, i) => {
    if (v >= value * (1 - 1e-9) && (best < 0 || v < table[best]!)) best = i;
    if (v > table[largest]!) largest = i;
  });
  return best >= 0 ? best : largest;
}

/** Equivalent noise bandwidth of the output filter at 12 dB/oct (the power-on slope), Hz. */
export function enbwHz(tauS: number): number {
  return 1 / (8 * tauS);
}
