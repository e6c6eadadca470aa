/**
 * Issue 11, points 3 and 6: every size from input has a stated maximum; counts are finite and ≥ 0; `-p` keys
 * never reach a prototype; YAML alias bombs and huge duplicate-key files are config errors, found in linear
 * time; `config check` and the daemon accept exactly the same configs; replay validates the recorded config.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API_CONFIG_SCHEMA } from '../../daemon/api/config.js';
import { METHODS } from '../../daemon/api/methods.js';
import { writeKeyPair } from '../../daemon/api/security.js';
import { ConfigError, MAX_CONFIG_ALIASES, parseConfigText } from '../../daemon/config.js';
import { createDefaultPlanRegistry } from '../../daemon/plans/index.js';
import { createDefaultRegistry } from '../../drivers/index.js';
import { encodeNpy } from '../../drivers/core/npy.js';
import { topLevelSchema } from '../../config/schema.js';
import { readHbtScan } from '../../pipelines/antibunching/reconstruct.js';
import { parseParamArgs } from '../../pipelines/core/params.js';
import { configFile, removeTempDirs, runCli, tempDir } from '../daemon/helpers.js';
import { runCliMeasured, writeHbtDataset } from './helpers.js';

afterAll(removeTempDirs);

/** Every integer without a maximum and every array without maxItems, as JSON pointers. */
function unbounded(schema: unknown, at = '#'): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  if (Array.isArray(schema)) return schema.flatMap((s, i) => unbounded(s, `${at}/${i}`));
  const s = schema as Record<string, unknown>;
  const out: string[] = [];
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('integer') && s.maximum === undefined && s.exclusiveMaximum === undefined && s.const === undefined && s.enum === undefined) out.push(`${at}: integer without maximum`);
  if (types.includes('array') && s.maxItems === undefined) out.push(`${at}: array without maxItems`);
  for (const [k, v] of Object.entries(s)) if (k !== 'default' && k !== 'examples') out.push(...unbounded(v, `${at}/${k}`));
  return out;
}

describe('every size that comes from input has a stated maximum (point 3)', () => {
  it('config, every driver, every plan and every API method: no integer without maximum, no array without maxItems', async () => {
    const problems = [
      ...unbounded(topLevelSchema(), 'config'),
      ...unbounded(API_CONFIG_SCHEMA, 'api'),
      ...createDefaultRegistry().list().flatMap((f) => unbounded(f.schema, `driver ${f.kind}/${f.impl}`)),
      ...(await createDefaultPlanRegistry()).list().flatMap((p) => unbounded(p.schema, `plan ${p.name}`)),
      ...Object.entries(METHODS).flatMap(([name, m]) => unbounded(m.params, `method ${name}`)),
    ];
    expect(problems).toEqual([]);
  });

  it('config check refuses hbt0.bins of 2 000 000 000 (it passed before and run grew past 6 GB)', () => {
    const file = configFile((y) => y.replace(/bins: 215 /, 'bins: 2000000000 '));
    const r = runCli(['config', 'check', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/instruments\.hbt0\.bins: must be <= 65536/);
  });
});

describe('counts are finite and ≥ 0 (point 6)', () => {
  it.each([
    ['counts.npy', 'negative', { counts: Float64Array.from({ length: 8 }, (_, i) => (i === 3 ? -5 : 10)) }, /counts\.npy: photon counts must be finite and ≥ 0; value 3 is -5/],
    ['counts.npy', 'NaN', { counts: Float64Array.from({ length: 8 }, (_, i) => (i === 0 ? Number.NaN : 10)) }, /counts\.npy: photon counts must be finite and ≥ 0; value 0 is NaN/],
    ['counts.npy', 'Inf', { counts: Float64Array.from({ length: 8 }, (_, i) => (i === 7 ? Infinity : 10)) }, /value 7 is Infinity/],
    ['histograms.npy', 'Inf', { histograms: Float64Array.from({ length: 128 }, (_, i) => (i === 9 ? Infinity : 1)) }, /histograms\.npy: histogram counts must be finite and ≥ 0; value 9 is Infinity/],
  ])('%s holding %s values is refused, naming the value', (_f, _what, edit, pattern) => {
    const dir = tempDir('qscope-counts-');
    writeHbtDataset(dir, edit);
    expect(() => readHbtScan(dir)).toThrow(pattern);
  });

  it('reconstruct g2 on negative counts exits 2 with that message (before: exit 0 with negative PL and G2 maps)', () => {
    const dir = tempDir('qscope-counts-');
    writeHbtDataset(dir, { counts: Float64Array.from({ length: 8 }, () => -100) });
    const r = runCliMeasured(['reconstruct', 'g2', '--input', dir, '--out', join(dir, 'out')]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/photon counts must be finite and ≥ 0/);
  });

  it('a calibration histogram with NaN is refused too', () => {
    const dir = tempDir('qscope-counts-');
    writeHbtDataset(dir, { manifest: { calibration: { file: 'cal.npy', counts: 10, integrationS: 1 } } });
    writeFileSync(join(dir, 'cal.npy'), encodeNpy(Float64Array.from({ length: 16 }, (_, i) => (i === 2 ? Number.NaN : 1))));
    expect(() => readHbtScan(dir)).toThrow(/cal\.npy: calibration counts must be finite and ≥ 0; value 2 is NaN/);
  });
});

describe('`-p` never reaches a prototype (point 6)', () => {
  it.each(['__proto__.x=1', 'constructor.prototype.x=1', 'a.__proto__.polluted=1', 'prototype=1', '.x=1', 'a..b=1'])('%s is refused and pollutes nothing', (pair) => {
    expect(() => parseParamArgs([pair])).toThrow(/is not a parameter name/);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('qscope run with -p __proto__.x=1 exits 2 with a clear message', () => {
    const r = runCli(['run', 'antibunching-scan', '-p', '__proto__.x=1', '--sessions', tempDir('qscope-run-')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--param __proto__\.x: '__proto__' is not a parameter name/);
  });
});

describe('YAML: alias bombs and duplicate keys are config errors (point 6)', () => {
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');

  it('a billion-laughs file is a ConfigError naming the alias limit, not a crash', () => {
    expect(() => parseConfigText(bomb, 'bomb.yaml')).toThrow(ConfigError);
    expect(() => parseConfigText(bomb, 'bomb.yaml')).toThrow(new RegExp(`more than ${MAX_CONFIG_ALIASES} alias expansions`));
  });

  it('config check and the daemon report it as a config error, without a stack trace', () => {
    const dir = tempDir('qscope-bomb-');
    writeFileSync(join(dir, 'bomb.yaml'), bomb);
    const check = runCli(['config', 'check', join(dir, 'bomb.yaml')]);
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/alias bomb/);
    expect(check.stderr).not.toMatch(/\n\s+at /);
    const daemon = runCli(['daemon', '--config', join(dir, 'bomb.yaml')]);
    expect(daemon.status).toBe(2);
    expect(daemon.stderr).toMatch(/refusing to start, invalid config.*\n.*alias bomb/);
  });

  it('the duplicate-key check is linear: 100 000 keys with the duplicate last are reported with its line', () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `k${i}: ${i}`);
    lines.push('k5: again');
    // Quadratic (yaml's uniqueKeys: 20 000 keys took 5.3 s) would need minutes here, beyond the test timeout.
    expect(() => parseConfigText(lines.join('\n'))).toThrow(/line 100001, column 1: Map keys must be unique \(duplicate key 'k5'\)/);
  });
});

describe('config check says ok only for configs the daemon accepts (point 6)', () => {
  it('a non-loopback address without CURVE: both refuse', () => {
    const file = configFile((y) => y.replace('control: tcp://127.0.0.1:5555', 'control: tcp://0.0.0.0:5555'));
    const check = runCli(['config', 'check', file]);
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/refusing to bind tcp:\/\/0\.0\.0\.0:5555 \(not loopback\) without CURVE/);
    const daemon = runCli(['daemon', '--config', file]);
    expect(daemon.status).toBe(2);
    expect(daemon.stderr).toMatch(/refusing to bind tcp:\/\/0\.0\.0\.0:5555/);
  });

  it('a world-readable secret-key file: both refuse, naming the chmod', () => {
    const dir = tempDir('qscope-keys-');
    const server = writeKeyPair(join(dir, 'server'));
    const clientKey = writeKeyPair(join(dir, 'client'));
    chmodSync(server.keyFile, 0o644);
    const file = configFile((y) => y.replace(/(  data: tcp:\/\/127\.0\.0\.1:5556.*\n)/, `$1  curve:\n    secretKeyFile: ${server.keyFile}\n    allowFiles: [${clientKey.pubFile}]\n`));
    const check = runCli(['config', 'check', file]);
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/accessible by group or others \(mode 0644\); run 'chmod 600/);
    chmodSync(server.keyFile, 0o600);
    expect(runCli(['config', 'check', file]).status).toBe(0);
  });
});

describe('replay validates the recorded config with the live schemas (point 3)', () => {
  it('an imported session whose config carries hbt0.bins = 2e9 is refused by replay with exit 2', () => {
    const base = tempDir('qscope-replay-bomb-');
    const ds = join(base, 'ds');
    mkdirSync(ds);
    writeFileSync(join(ds, 's.npy'), encodeNpy(new Float64Array(4), [2, 2]));
    writeFileSync(join(ds, 's.t.npy'), encodeNpy(Float64Array.from([0, 1000])));
    writeFileSync(join(ds, 's.headers.json'), '[{},{}]');
    const session = {
      id: 'x', plan: 'antibunching-scan', params: {}, metadata: {}, softwareVersion: 't', instruments: {}, clock: 'virtual', status: 'completed', source: null, startedAt: '2026-01-01T00:00:00.000Z',
      config: { rig: { seed: 1 }, instruments: { hbt0: { kind: 'hbt', impl: 'sim', bins: 2_000_000_000 } } },
    };
    writeFileSync(join(ds, 'manifest.json'), JSON.stringify({ kind: 'qscope-session', version: 1, headers: { s: 's.headers.json' }, session, arrays: [
      { file: 's.npy', stream: 's', kind: 'instrument', role: 'frames', dtype: 'f64', shape: [2, 2] },
      { file: 's.t.npy', stream: 's', kind: 'instrument', role: 't', dtype: 'f64', shape: [2] },
    ] }));
    const sessions = join(base, 'sessions');
    mkdirSync(sessions);
    expect(runCli(['import', ds, '--out', join(sessions, 'bomb.db')]).status).toBe(0);
    const r = runCliMeasured(['replay', 'bomb', '--sessions', sessions], { heapMiB: 256 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/qscope replay: instruments\.hbt0\.bins: must be <= 65536/);
    expect(r.maxRssMiB!).toBeLessThan(600);
  });
});
