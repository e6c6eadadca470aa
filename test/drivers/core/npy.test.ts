import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeNpy, encodeNpy, readNpy } from '../../../drivers/core/npy.js';
import { tmpDir } from '../../daemon/engine/helpers.js';
import { hasNumpy } from '../../support/python.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/npy');
if (!hasNumpy) console.warn('numpy not available (python3 -c "import numpy" failed): skipping the NumPy cross-checks');

let tmp: ReturnType<typeof tmpDir>;
beforeEach(() => {
  tmp = tmpDir();
});
afterEach(() => tmp.cleanup());

describe('NPY written by NumPy loads in qscope', () => {
  it('C order, Fortran order, big-endian, bool, 0-d, empty, version 2.0', () => {
    expect(readNpy(join(fixtures, 'f64_2x3.npy'))).toEqual({ dtype: 'f64', shape: [2, 3], data: Float64Array.from([0, 1, 2, 3, 4, 5], (v) => v / 3) });
    const u = readNpy(join(fixtures, 'u32_215.npy'));
    expect(u.dtype).toBe('u32');
    expect(u.shape).toEqual([215]);
    expect(u.data[214]).toBe(Number((214n * 2654435761n) % 2n ** 32n));
    expect(readNpy(join(fixtures, 'i16_fortran_3x4.npy'))).toEqual({ dtype: 'i16', shape: [3, 4], data: Int16Array.from({ length: 12 }, (_, i) => i - 6) });
    expect(readNpy(join(fixtures, 'f32_bigendian_4.npy')).data).toEqual(Float32Array.from([1.5, -2.25, 3e30, 0]));
    expect(readNpy(join(fixtures, 'bool_5.npy'))).toEqual({ dtype: 'u8', shape: [5], data: Uint8Array.from([1, 0, 1, 1, 0]) });
    expect(readNpy(join(fixtures, 'u8_scalar.npy'))).toEqual({ dtype: 'u8', shape: [], data: Uint8Array.from([7]) });
    expect(readNpy(join(fixtures, 'u16_empty_0x3.npy'))).toEqual({ dtype: 'u16', shape: [0, 3], data: new Uint16Array(0) });
    expect(readNpy(join(fixtures, 'f64_v2_2x2.npy'))).toEqual({ dtype: 'f64', shape: [2, 2], data: Float64Array.from([1, 2, 3, 4]) });
  });

  it('refuses lying headers, foreign files and unsupported dtypes with clear errors', () => {
    expect(() => readNpy(join(fixtures, 'lying_shape.npy'))).toThrow(/lying_shape\.npy: header says shape \(9, 9\) of <f8 = 648 bytes of data, but the file holds 48/);
    expect(() => readNpy(join(fixtures, 'not_npy.npy'))).toThrow(/not_npy\.npy: not an NPY file \(bad magic string\)/);
    expect(() => readNpy(join(fixtures, 'i64_3.npy'))).toThrow(/i64_3\.npy: dtype '<i8' is not supported/);
    expect(() => readNpy(join(fixtures, 'missing.npy'))).toThrow(/missing\.npy: cannot read \(ENOENT\)/);
    const good = readFileSync(join(fixtures, 'f64_2x3.npy'));
    expect(() => decodeNpy(good.subarray(0, 60), 'cut.npy')).toThrow(/cut\.npy: header length 118 runs past the end/);
    expect(() => decodeNpy(good.subarray(0, good.length - 1), 'short.npy')).toThrow(/short\.npy: header says shape \(2, 3\) of <f8 = 48 bytes of data, but the file holds 47/);
    const odd = Buffer.from(good);
    odd.write("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 10, 'latin1');
    expect(() => decodeNpy(odd, 'odd.npy')).toThrow(/odd\.npy: bad header/);
  });
});

describe('NPY written by qscope', () => {
  it('round-trips every dtype and shape exactly (property)', () => {
    const ctors = [Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Uint8Array, Int8Array] as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }), fc.integer(), (k, shape, seed) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = new ctors[k]!(n);
        for (let i = 0; i < n; i++) data[i] = ((seed + i * 2654435761) % 1000) / (k < 2 ? 7 : 1);
        const back = decodeNpy(encodeNpy(data, shape));
        expect(back.shape).toEqual(shape);
        expect(back.data).toEqual(data);
        expect(encodeNpy(data, shape).indexOf('\n') % 64).toBe(63);
      }),
      { numRuns: 200 },
    );
  });

  it.runIf(hasNumpy)('loads in NumPy with the right dtype, shape and values', () => {
    const cases: [string, Parameters<typeof encodeNpy>[0], number[]][] = [
      ['a.npy', Float64Array.from([0.1, -2, Math.PI, 1e-300, 5, 6]), [2, 3]],
      ['b.npy', Uint32Array.from({ length: 215 }, (_, i) => (i * 2654435761) >>> 0), [215]],
      ['c.npy', Int8Array.from([-128, 127, 0, 1]), [2, 1, 2]],
      ['d.npy', new Uint16Array(0), [0, 4]],
    ];
    for (const [name, data, shape] of cases) writeFileSync(join(tmp.dir, name), encodeNpy(data, shape));
    const out = execFileSync('python3', ['-c', `
import json, sys, numpy as np
res = {}
for f in ['a', 'b', 'c', 'd']:
    a = np.load(sys.argv[1] + '/' + f + '.npy')
    res[f] = [a.dtype.str, list(a.shape), [float(x) for x in a.ravel()]]
print(json.dumps(res))
`, tmp.dir]).toString();
    const got = JSON.parse(out);
    expect(got.a).toEqual(['<f8', [2, 3], [0.1, -2, Math.PI, 1e-300, 5, 6]]);
    expect(got.b[0]).toBe('<u4');
    expect(got.b[2]).toEqual([...cases[1]![1]]);
    expect(got.c).toEqual(['|i1', [2, 1, 2], [-128, 127, 0, 1]]);
    expect(got.d).toEqual(['<u2', [0, 4], []]);
  });
});
