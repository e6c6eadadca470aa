/**
 * Frame headers are built without object spread (a V8 slow path on the per-frame path, issue 18 point 2):
 * the header must stay exactly what `{...fields, stream, seq, t, dtype, shape}` gave, key order included,
 * because replay compares the stored header JSON text.
 */
import { describe, expect, it } from 'vitest';
import { assignFields, makeFrame } from '../../../drivers/core/frame.js';

describe('makeFrame and assignFields', () => {
  it('give the same header JSON as object spread, for fields with and without the reserved keys', () => {
    const payload = new Uint32Array(6);
    const cases: Record<string, unknown>[] = [
      {},
      { pixel: 3, phase: 'scan', xNm: 1.5 },
      { t: 99, pixel: 1, stream: 'ignored', shape: [9], note: 'reserved keys keep their place' },
      { 2: 'integer key', b: 1, 1: 'first', a: { nested: [1, 2] } },
      JSON.parse('{"__proto__": {"polluted": true}, "after": 1}') as Record<string, unknown>,
    ];
    for (const fields of cases) {
      const f = makeFrame('hbt0.histogram', 7, 1234.4, payload, [2, 3], fields);
      const spread = { ...fields, stream: 'hbt0.histogram', seq: 7, t: 1234, dtype: 'u32', shape: [2, 3] };
      expect(JSON.stringify(f.header)).toBe(JSON.stringify(spread));
      expect(Object.getPrototypeOf(f.header)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('assignFields merges like {...a, ...b}: a repeated key keeps its first position and takes the later value', () => {
    const a = { x: 1, y: 2 };
    const b = { z: 3, x: 4 };
    expect(JSON.stringify(assignFields(assignFields({}, a), b))).toBe(JSON.stringify({ ...a, ...b }));
  });

  it('checks the shape against the payload length', () => {
    expect(() => makeFrame('s', 0, 0, new Float64Array(5), [2, 3])).toThrow(/holds 6 values but the payload has 5/);
  });
});
