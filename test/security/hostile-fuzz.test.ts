/**
 * The hostile-input suite (issue 11): property-based fuzzing with fast-check of the NPY reader, the dataset
 * manifest readers and the YAML config parser, on generated hostile files. Fixed seed, bounded number of runs,
 * tiny sizes: it runs in `npm test` and grows with the code (add a reader, add a property here).
 *
 * The properties: a reader either returns a result consistent with the bytes present or throws its own
 * error type with a message — never another exception, never a hang, never an allocation beyond the input,
 * never a word of a file outside the folder.
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../daemon/config.js';
import { DatasetError, importDataset } from '../../daemon/datasets/import.js';
import { DatasetFileError } from '../../drivers/core/dataset-files.js';
import { NpyError, decodeNpy, encodeNpy, readNpy } from '../../drivers/core/npy.js';
import { readHbtScan } from '../../pipelines/antibunching/reconstruct.js';
import { readCosyDataset } from '../../pipelines/cosy/dataset.js';
import { removeTempDirs, tempDir } from '../daemon/helpers.js';
import { SECRET, writeHbtDataset } from './helpers.js';

afterAll(removeTempDirs);

const RUNS = { seed: 1100, numRuns: 150 } as const;
const SIZE: Record<string, number> = { f8: 8, f4: 4, i4: 4, u4: 4, i2: 2, u2: 2, u1: 1, i1: 1 };

/** An NPY file whose header may lie: random descr, shape, fortran flag, padding, and a data section of any length. */
const hostileNpy = fc
  .record({
    major: fc.constantFrom(1, 2, 3, 4),
    order: fc.constantFrom('<', '>', '|', '='),
    kind: fc.constantFrom('f8', 'f4', 'i4', 'u4', 'i2', 'u2', 'u1', 'i1', 'c16', 'O', 'U5'),
    shape: fc.array(fc.oneof(fc.nat(6), fc.constantFrom(0, 2 ** 31, 2 ** 53, 10 ** 12)), { maxLength: 4 }),
    fortran: fc.boolean(),
    extraKeys: fc.boolean(),
    garbage: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    dataBytes: fc.nat(400),
    hlenDelta: fc.integer({ min: -8, max: 8 }),
  })
  .map((r) => {
    const shapeText = r.shape.length === 1 ? `(${r.shape[0]},)` : `(${r.shape.join(', ')})`;
    const dict = r.garbage ?? `{'descr': '${r.order}${r.kind}', 'fortran_order': ${r.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, ${r.extraKeys ? "'x': 1, " : ''}}`;
    const prefix = r.major === 1 ? 10 : 12;
    const header = Buffer.from(dict + '\n', 'latin1');
    const out = Buffer.alloc(prefix + header.length + r.dataBytes, 7);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, r.major, 0]).copy(out);
    const hlen = Math.max(0, header.length + r.hlenDelta);
    if (r.major === 1) out.writeUInt16LE(hlen, 8);
    else out.writeUInt32LE(hlen, 8);
    header.copy(out, prefix);
    return { bytes: out, declared: r };
  });

function expectNpyOutcome(run: () => ReturnType<typeof decodeNpy>, fileBytes: number) {
  let a;
  try {
    a = run();
  } catch (err) {
    expect(err).toBeInstanceOf(NpyError);
    expect((err as Error).message).not.toContain('TOP-SECRET');
    return;
  }
  // Accepted: the data is exactly what the header promised, and no larger than the file.
  const n = a.shape.reduce((x, y) => x * y, 1);
  expect(a.data.length).toBe(n);
  expect(a.data.byteLength).toBeLessThanOrEqual(fileBytes);
}

describe('fuzz: the NPY reader', () => {
  it('decodeNpy: any bytes → a consistent array or an NpyError', () => {
    fc.assert(fc.property(hostileNpy, ({ bytes }) => expectNpyOutcome(() => decodeNpy(bytes, 'fuzz.npy'), bytes.length)), RUNS);
  });

  it('decodeNpy: random bytes and truncations of valid files', () => {
    const valid = fc.tuple(fc.array(fc.double({ noNaN: false }), { maxLength: 12 }), fc.nat(200)).map(([v, cut]) => {
      const b = encodeNpy(Float64Array.from(v));
      return b.subarray(0, Math.min(b.length, cut));
    });
    fc.assert(fc.property(fc.oneof(valid, fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u))), (b) => expectNpyOutcome(() => decodeNpy(b, 'fuzz.npy'), b.length)), RUNS);
  });

  it('readNpy from disk agrees with decodeNpy on the same bytes', () => {
    const dir = tempDir('qscope-fuzz-npy-');
    fc.assert(
      fc.property(hostileNpy, ({ bytes }) => {
        const f = join(dir, 'a.npy');
        writeFileSync(f, bytes);
        let fromDisk: unknown, fromMemory: unknown;
        try {
          fromDisk = readNpy(f);
        } catch (err) {
          fromDisk = (err as Error).constructor.name;
        }
        try {
          fromMemory = decodeNpy(bytes, f);
        } catch (err) {
          fromMemory = (err as Error).constructor.name;
        }
        expect(fromDisk).toEqual(fromMemory);
      }),
      { ...RUNS, numRuns: 80 },
    );
  });
});

/** File names a hostile manifest might give. */
const hostileName = fc.oneof(
  fc.constantFrom('../outside/secret.npy', '../outside/secret.txt', '/etc/passwd', '..', '.', '', 'a/../../outside/secret.npy', 'link-out.npy', 'fifo.npy', 'sub/../histograms.npy', 'histograms.npy', 'counts.npy', 'nul\u0000.npy'),
  fc.string({ maxLength: 12 }),
  fc.constant(42),
  fc.constant(null),
);

/** A dataset folder beside `outside/` (holding the secret), with a symlink out and a FIFO inside. */
function fuzzWorld() {
  const base = tempDir('qscope-fuzz-ds-');
  const outside = join(base, 'outside');
  const ds = join(base, 'ds');
  mkdirSync(outside);
  mkdirSync(ds);
  writeFileSync(join(outside, 'secret.npy'), encodeNpy(Float64Array.from(Buffer.from(SECRET))));
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  symlinkSync(join(outside, 'secret.txt'), join(ds, 'link-out.npy'));
  execFileSync('mkfifo', [join(ds, 'fifo.npy')]);
  return { base, ds };
}

function expectDatasetOutcome(run: () => unknown) {
  try {
    run();
  } catch (err) {
    const e = err as Error & { code?: string };
    expect(['BAD_DATASET', 'BAD_NPY'], `${e.name}: ${e.message}`).toContain(e.code);
    expect(e.message).not.toContain('TOP-SECRET');
  }
}

describe('fuzz: the manifest readers', () => {
  it('hbt-scan: hostile manifests and file names → a dataset or a dataset error, never outside', () => {
    const { ds } = fuzzWorld();
    const manifest = fc.record(
      {
        shape: fc.oneof(fc.constant([2, 2]), fc.array(fc.oneof(fc.integer({ min: -3, max: 5 }), fc.constantFrom(30000, 2 ** 40, 0.5)), { maxLength: 3 })),
        bins: fc.oneof(fc.constant(16), fc.integer({ min: -2, max: 70000 }), fc.constant('16')),
        zeroBin: fc.integer({ min: -1, max: 20 }),
        integrationS: fc.oneof(fc.constant(1), fc.double()),
        calibration: fc.option(fc.record({ file: hostileName, counts: fc.double(), integrationS: fc.double() }), { nil: undefined }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(manifest, (m) => {
        writeHbtDataset(ds, { manifest: m as Record<string, unknown> });
        expectDatasetOutcome(() => readHbtScan(ds));
      }),
      { ...RUNS, numRuns: 100 },
    );
  });

  it('cosy-2d: hostile manifests → a dataset or a dataset error', () => {
    const { ds } = fuzzWorld();
    const manifest = fc.record(
      {
        kind: fc.constantFrom('cosy-2d', 'x'),
        shape: fc.oneof(fc.constant([4, 4]), fc.array(fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constant(100000)), { maxLength: 3 })),
        t1StepUs: fc.oneof(fc.constant(0.5), fc.double()),
        peaksKHz: fc.option(fc.array(fc.oneof(fc.double(), fc.string()), { maxLength: 80 }), { nil: undefined }),
      },
      { requiredKeys: ['kind'] },
    );
    const map = fc.array(fc.oneof(fc.double(), fc.constant(Number.NaN)), { minLength: 16, maxLength: 16 });
    fc.assert(
      fc.property(manifest, map, (m, values) => {
        writeFileSync(join(ds, 'manifest.json'), JSON.stringify(m));
        writeFileSync(join(ds, 'map.npy'), encodeNpy(Float64Array.from(values), [4, 4]));
        expectDatasetOutcome(() => readCosyDataset(ds));
      }),
      { ...RUNS, numRuns: 100 },
    );
  });

  it('import: hostile session manifests → a session or a dataset error, and nothing written on error', () => {
    const { base, ds } = fuzzWorld();
    writeFileSync(join(ds, 's.npy'), encodeNpy(new Float64Array(6), [2, 3]));
    writeFileSync(join(ds, 's.t.npy'), encodeNpy(Float64Array.from([0, 1000])));
    writeFileSync(join(ds, 'h.json'), '[{},{}]');
    const entry = fc.record({ file: hostileName, stream: fc.constantFrom('s', 't'), kind: fc.constantFrom('instrument', 'result'), role: fc.constantFrom('frames', 't', 'single', 'x'), dtype: fc.constantFrom('f64', 'u8'), shape: fc.oneof(fc.constant([2, 3]), fc.constant([2]), fc.array(fc.nat(4), { maxLength: 3 })) });
    const manifest = fc.record({
      kind: fc.constantFrom('qscope-session', 'other'),
      arrays: fc.array(entry, { maxLength: 3 }),
      headers: fc.oneof(fc.constant({ s: 'h.json' }), fc.dictionary(fc.constantFrom('s', 't', '__proto__', 'constructor'), hostileName)),
      events: fc.option(hostileName, { nil: undefined }),
      session: fc.constant({ id: 'x', plan: 'import', params: {}, config: {}, metadata: {}, softwareVersion: 't', instruments: {}, clock: 'virtual', status: 'completed', source: null, startedAt: '2026-01-01T00:00:00.000Z' }),
    });
    let n = 0;
    fc.assert(
      fc.property(manifest, (m) => {
        writeFileSync(join(ds, 'manifest.json'), JSON.stringify(m));
        const out = join(base, `s${n++}.db`);
        try {
          importDataset(ds, out, { freeBytes: () => 2 ** 40 });
          rmSync(out);
        } catch (err) {
          expect(err instanceof DatasetError || err instanceof DatasetFileError || err instanceof NpyError, String(err)).toBe(true);
          expect(existsSync(out)).toBe(false);
          expect((err as Error).message).not.toContain('TOP-SECRET');
        }
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});

describe('fuzz: the YAML config parser', () => {
  const yamlish = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.array(fc.constantFrom('a: 1', 'a: 2', 'b: &x [1, 2]', 'c: *x', 'd: *nope', '- 1', '  e: {f: *x}', '<<: *x', '? [1]\n: 2', '"k": v', 'rig:', '  seed: 1', '---', '!!binary', 'z: &y [*x, *x, *x, *x]', 'w: [*y, *y, *y, *y, *y]'), { maxLength: 12 }).map((l) => l.join('\n')),
  );
  it('any text → a value or a ConfigError (no other exception, no alias expansion beyond the limit)', () => {
    fc.assert(
      fc.property(yamlish, (text) => {
        try {
          parseConfigText(text, 'fuzz.yaml');
        } catch (err) {
          expect(err, String(err)).toBeInstanceOf(ConfigError);
        }
      }),
      { ...RUNS, numRuns: 300 },
    );
  });
});
