/**
 * Issue 11, points 2–4: dataset folders handed to `import` and `reconstruct` are hostile. Every file a manifest
 * names stays inside the folder and is a regular file; sizes are checked before allocating; errors never quote
 * a file; a failed import or export leaves nothing that looks complete. Each case runs the real CLI in a child
 * process with a memory limit and reports its peak memory.
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../drivers/core/npy.js';
import { removeTempDirs, tempDir } from '../daemon/helpers.js';
import { SECRET, runCliMeasured, writeHbtDataset } from './helpers.js';

afterAll(removeTempDirs);

/** A folder `outside/` holding the secret (as NPY and as text), and an empty dataset folder beside it. */
function world() {
  const base = tempDir('qscope-hostile-');
  const outside = join(base, 'outside');
  const ds = join(base, 'ds');
  mkdirSync(outside);
  mkdirSync(ds);
  writeFileSync(join(outside, 'secret.npy'), encodeNpy(Float64Array.from(Buffer.from(SECRET)), [SECRET.length]));
  writeFileSync(join(outside, 'secret.json'), JSON.stringify([{ secret: SECRET }]));
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  return { base, outside, ds };
}

/** A minimal `qscope export` folder: one stream `s` of `n` frames of `values` f64 each. */
function writeSessionExport(dir: string, edit: Record<string, unknown> = {}, n = 2, values = 3): void {
  writeFileSync(join(dir, 's.npy'), encodeNpy(Float64Array.from({ length: n * values }, (_, i) => i), [n, values]));
  writeFileSync(join(dir, 's.t.npy'), encodeNpy(Float64Array.from({ length: n }, (_, i) => i * 1000)));
  writeFileSync(join(dir, 's.headers.json'), JSON.stringify(Array.from({ length: n }, () => ({}))));
  writeFileSync(join(dir, 'events.json'), JSON.stringify([{ t: 0, type: 'mark', source: null, data: null }]));
  const manifest = {
    kind: 'qscope-session',
    version: 1,
    arrays: [
      { file: 's.npy', stream: 's', kind: 'instrument', role: 'frames', dtype: 'f64', shape: [n, values] },
      { file: 's.t.npy', stream: 's', kind: 'instrument', role: 't', dtype: 'f64', shape: [n] },
    ],
    headers: { s: 's.headers.json' },
    events: 'events.json',
    session: { id: 'x', plan: 'import', params: {}, config: {}, metadata: {}, softwareVersion: 't', instruments: {}, clock: 'virtual', status: 'completed', source: null, startedAt: '2026-01-01T00:00:00.000Z' },
    ...edit,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

function expectRefused(r: ReturnType<typeof runCliMeasured>, pattern: RegExp) {
  expect(r.signal).toBeNull();
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr + r.stdout).not.toContain('TOP-SECRET');
  expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
}

describe('manifests never reach outside their folder', () => {
  it('a plain export imports (the positive control for the cases below)', () => {
    const { ds, base } = world();
    writeSessionExport(ds);
    const r = runCliMeasured(['import', ds, '--out', join(base, 'ok.db')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 frames, 0 results, 1 events/);
  });

  it.each([
    ['arrays[].file', (o: string) => ({ arrays: [{ file: `../outside/secret.npy`, stream: 's', kind: 'instrument', role: 'frames', dtype: 'f64', shape: [SECRET.length] }, { file: 's.t.npy', stream: 's', kind: 'instrument', role: 't', dtype: 'f64', shape: [2] }] , _o: o })],
    ['headers', () => ({ headers: { s: '../outside/secret.json' } })],
    ['events (absolute path)', (o: string) => ({ events: join(o, 'secret.json') })],
  ])('import: a foreign %s is refused, nothing is imported and the secret is never read into the session', (_what, edit) => {
    const { ds, base, outside } = world();
    const e = edit(outside) as Record<string, unknown>;
    delete e._o;
    writeSessionExport(ds, e);
    const out = join(base, 'stolen.db');
    const r = runCliMeasured(['import', ds, '--out', out]);
    expectRefused(r, /outside the dataset folder|must be relative/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(base).sort()).toEqual(['ds', 'outside']);
  });

  it('import: a symlink inside the folder leading out is refused; a foreign folder naming outside arrays too', () => {
    const { ds, base, outside } = world();
    writeSessionExport(ds);
    symlinkSync(join(outside, 'secret.json'), join(ds, 'link.json'));
    writeSessionExport(ds, { headers: { s: 'link.json' } });
    expectRefused(runCliMeasured(['import', ds, '--out', join(base, 'a.db')]), /symbolic link leading outside/);
    const foreign = join(base, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'manifest.json'), JSON.stringify({ kind: 'anything', arrays: [{ file: '../outside/secret.npy' }] }));
    expectRefused(runCliMeasured(['import', foreign, '--out', join(base, 'b.db')]), /outside the dataset folder/);
    expect(existsSync(join(base, 'a.db')) || existsSync(join(base, 'b.db'))).toBe(false);
  });

  it('a device or a FIFO named by a manifest is refused at once, with bounded memory (no SIGABRT, no hang)', () => {
    const { ds, base } = world();
    writeSessionExport(ds, { events: '/dev/zero' });
    const dev = runCliMeasured(['import', ds, '--out', join(base, 'z.db')], { heapMiB: 128 });
    expectRefused(dev, /must be relative/);
    // Inside the folder: a FIFO (would block a reader forever) and a symlink to /dev/zero.
    execFileSync('mkfifo', [join(ds, 'fifo.json')]);
    writeSessionExport(ds, { events: 'fifo.json' });
    const fifo = runCliMeasured(['import', ds, '--out', join(base, 'f.db')], { heapMiB: 128, timeoutMs: 20_000 });
    expectRefused(fifo, /not a regular file/);
    symlinkSync('/dev/zero', join(ds, 'zero.npy'));
    writeSessionExport(ds, { arrays: [{ file: 'zero.npy', stream: 's', kind: 'instrument', role: 'frames', dtype: 'f64', shape: [2, 3] }] });
    const zero = runCliMeasured(['import', ds, '--out', join(base, 'z2.db')], { heapMiB: 128 });
    expectRefused(zero, /outside the dataset folder/);
    for (const r of [dev, fifo, zero]) expect(r.maxRssMiB!).toBeLessThan(400);
  });

  it('reconstruct g2: histograms.npy as a FIFO or a link to /dev/zero, and a calibration file outside, are refused', () => {
    const { ds, base } = world();
    writeHbtDataset(ds, { manifest: { calibration: { file: '../outside/secret.npy', counts: 1, integrationS: 1 } } });
    expectRefused(runCliMeasured(['reconstruct', 'g2', '--input', ds, '--out', join(base, 'o1')]), /calibration\.file '\.\.\/outside\/secret\.npy': reaches outside/);
    writeHbtDataset(ds);
    execFileSync('rm', [join(ds, 'histograms.npy')]);
    execFileSync('mkfifo', [join(ds, 'histograms.npy')]);
    expectRefused(runCliMeasured(['reconstruct', 'g2', '--input', ds, '--out', join(base, 'o2')], { timeoutMs: 20_000 }), /not a regular file/);
    execFileSync('rm', [join(ds, 'histograms.npy')]);
    symlinkSync('/dev/zero', join(ds, 'histograms.npy'));
    const r = runCliMeasured(['reconstruct', 'g2', '--input', ds, '--out', join(base, 'o3')], { heapMiB: 128 });
    expectRefused(r, /outside the dataset folder/);
    expect(r.maxRssMiB!).toBeLessThan(400);
    expect(existsSync(join(base, 'o1')) || existsSync(join(base, 'o2')) || existsSync(join(base, 'o3'))).toBe(false);
  });

  it('reconstruct cosy: map.npy leading outside is refused', () => {
    const { ds, base } = world();
    writeFileSync(join(ds, 'manifest.json'), JSON.stringify({ kind: 'cosy-2d', shape: [4, 4] }));
    symlinkSync('../outside/secret.npy', join(ds, 'map.npy'));
    expectRefused(runCliMeasured(['reconstruct', 'cosy', '--input', ds, '--out', join(base, 'o'), '--method', 'orig']), /outside the dataset folder/);
  });

  it('errors name the file and the problem but never quote it', () => {
    const { ds, base } = world();
    writeFileSync(join(ds, 'manifest.json'), SECRET);
    expectRefused(runCliMeasured(['import', ds, '--out', join(base, 'a.db')]), /manifest\.json: .*not valid JSON/);
    writeSessionExport(ds, { headers: { s: 'h.json' } });
    writeFileSync(join(ds, 'h.json'), `${SECRET}\n`);
    expectRefused(runCliMeasured(['import', ds, '--out', join(base, 'b.db')]), /h\.json: headers\.s: not valid JSON/);
    // An NPY whose header is garbage: the position, not the text.
    const npy = encodeNpy(new Float64Array(2));
    npy.write(`{'descr': '${'x'.repeat(10)}`, 10, 'latin1');
    writeFileSync(join(ds, 's.npy'), npy);
    writeSessionExport(ds);
    writeFileSync(join(ds, 's.npy'), Buffer.concat([npy.subarray(0, 10), Buffer.from(SECRET.padEnd(npy.length - 10, ' '))]));
    expectRefused(runCliMeasured(['import', ds, '--out', join(base, 'c.db')]), /s\.npy: bad header: .* at offset \d+/);
  });
});

describe('small inputs never allocate gigabytes (issue 11, point 3)', () => {
  it('a manifest shape of 30000×30000 with a header-only histograms file is refused before allocating', () => {
    const { ds, base } = world();
    writeHbtDataset(ds, { manifest: { shape: [30000, 30000] } });
    writeFileSync(join(ds, 'histograms.npy'), encodeNpy(new Float64Array(0), [30000, 30000, 0, 16]));
    const r = runCliMeasured(['reconstruct', 'g2', '--input', ds, '--out', join(base, 'o')], { heapMiB: 128 });
    expectRefused(r, /shape must be \[ny, nx\] with 1…4096 pixels per axis/);
    expect(r.maxRssMiB!).toBeLessThan(400);
    // Within the bounds but with no histogram at all (k = 0): refused, nothing sized from the manifest alone.
    writeHbtDataset(ds, { manifest: { shape: [4096, 256] } });
    writeFileSync(join(ds, 'histograms.npy'), encodeNpy(new Float64Array(0), [4096, 256, 0, 16]));
    const k0 = runCliMeasured(['reconstruct', 'g2', '--input', ds, '--out', join(base, 'o')], { heapMiB: 128 });
    expectRefused(k0, /k must be at least 1/);
    expect(k0.maxRssMiB!).toBeLessThan(400);
  });

  it('an NPY header promising 80 GB over 1 KB of data is refused before reading the data', () => {
    const { ds, base } = world();
    writeSessionExport(ds);
    const lie = encodeNpy(new Float64Array(128), [128]);
    const text = lie.toString('latin1', 10, lie.readUInt16LE(8) + 10).replace('(128,)', '(100000, 100000)');
    writeFileSync(join(ds, 's.npy'), Buffer.concat([lie.subarray(0, 10), Buffer.from(text, 'latin1'), lie.subarray(10 + text.length)]));
    const r = runCliMeasured(['import', ds, '--out', join(base, 'a.db')], { heapMiB: 128 });
    expectRefused(r, /header says shape \(100000, 100000\) .* but the file holds 1024/);
    expect(r.maxRssMiB!).toBeLessThan(400);
  });
});

describe('import and export are all or nothing (issue 11, point 4)', () => {
  it('import under a file-size limit fails non-zero, says what was written and leaves no session file', () => {
    const { ds, base } = world();
    writeSessionExport(ds, {}, 400, 1024); // 400 frames of 8 KiB: ~3.2 MB to write
    const out = join(base, 'big.db');
    const r = runCliMeasured(['import', ds, '--out', out], { shellPrefix: 'ulimit -f 1024;' }); // 1 MiB
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/failed after \d+ of 400 frames, 0 of 0 results, \d+ of 1 events .*nothing was imported|File too large|EFBIG/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(base).sort()).toEqual(['ds', 'outside']);
  });

  it('export under a file-size limit fails non-zero and leaves no folder that looks complete', () => {
    const { ds, base } = world();
    writeSessionExport(ds, {}, 400, 1024);
    const db = join(base, 'whole.db');
    expect(runCliMeasured(['import', ds, '--out', db]).status).toBe(0);
    const out = join(base, 'export');
    const r = runCliMeasured(['export', db, '--out', out], { shellPrefix: 'ulimit -f 1024;' });
    expect(r.status, r.stderr).not.toBe(0);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(base).filter((f) => f.includes('export'))).toEqual([]);
    const full = runCliMeasured(['export', db, '--out', out]);
    expect(full.status, full.stderr).toBe(0);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  });
});
