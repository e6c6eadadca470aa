/** `watch` summarises a frame per column by name, and never averages non-finite values in. */
import { describe, expect, it } from 'vitest';
import { summarize } from '../../../daemon/commands/watch.js';

describe('watch frame summary', () => {
  it('one statistic per named column', () => {
    const row = Float64Array.from([12, 0.31, 0.05, Infinity, 4.1e4]);
    expect(summarize(row, [5], ['pixel', 'g2', 'g2Std', 'crb', 'rateCps'])).toBe('pixel=12 g2=0.31 g2Std=0.05 crb=all 1 non-finite rateCps=41000');
    const table = Float64Array.from([1, 10, 2, 20, 3, NaN]);
    expect(summarize(table, [3, 2], ['a', 'b'])).toBe('a: min=1 mean=2 max=3 b: min=10 mean=15 max=20 (1 non-finite)');
  });

  it('without column names: the finite values only, with the count of the others', () => {
    expect(summarize(Uint32Array.from([1, 2, 3, 6]), [4])).toBe('min=1 mean=3 max=6');
    expect(summarize(Float64Array.from([1, Infinity, 3]), [3])).toBe('min=1 mean=2 max=3 (1 non-finite)');
    expect(summarize(Float64Array.from([1, 2]), [2], ['only-one'])).toBe('min=1 mean=1.5 max=2');
    expect(summarize(new Float64Array(0), [0])).toBe('');
  });
});
