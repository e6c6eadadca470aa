/**
 * Where the paper's SNR looks in a centred cosy spectrum: windows (±1 bin)
 * around every (fa, fb) combination of the lines — the diagonal and cross
 * peaks, e.g. [21.9, 21.9], [23.5, 21.9], [21.9, 23.5], [23.5, 23.5] kHz — and
 * a blank square of the positive quadrant whose rows and columns stay clear
 * of every line and of zero frequency.
 */
import type { Region } from '../core/metrics.js';

/** The paper's lines, kHz. */
export const PAPER_LINES_KHZ = [21.9, 23.5];

/** Centred index of frequency `fKHz` on an axis of n samples `stepUs` apart. */
export function binOf(fKHz: number, n: number, stepUs: number): number {
  return Math.floor(n / 2) + Math.round(fKHz * 1e-3 * n * stepUs);
}

export function snrRegions(linesKHz: readonly number[], n1: number, n2: number, step1Us: number, step2Us: number, blankSize = 8): { peaks: Region[]; blank: Region } {
  if (linesKHz.length === 0) throw new RangeError('peaksKHz: at least one line is needed');
  const rows = linesKHz.map((f) => binOf(Math.abs(f), n1, step1Us));
  const cols = linesKHz.map((f) => binOf(Math.abs(f), n2, step2Us));
  const win = (c: number, n: number): [number, number] => [Math.max(0, c - 1), Math.min(n, c + 2)];
  const peaks: Region[] = [];
  for (const r of rows) for (const c of cols) peaks.push({ rows: win(r, n1), cols: win(c, n2) });
  // Blank: the square (size blankSize, positive quadrant, away from DC) with the largest clearance from the lines.
  const c1 = Math.floor(n1 / 2), c2 = Math.floor(n2 / 2);
  const size = Math.min(blankSize, n1 - c1 - 3, n2 - c2 - 3);
  const clearance = (start: number, len: number, lines: number[]) => Math.min(...lines.map((l) => (l < start ? start - l : l >= start + len ? l - (start + len - 1) : 0)));
  let best: Region | undefined, bestScore = -Infinity;
  for (let r0 = c1 + 3; r0 + size <= n1; r0++) {
    for (let q0 = c2 + 3; q0 + size <= n2; q0++) {
      const score = Math.min(clearance(r0, size, rows), clearance(q0, size, cols));
      if (score > bestScore) [best, bestScore] = [{ rows: [r0, r0 + size], cols: [q0, q0 + size] }, score];
    }
  }
  if (!best || size < 1) throw new RangeError(`shape: ${n1}×${n2} too small for a blank region`);
  return { peaks, blank: best };
}
