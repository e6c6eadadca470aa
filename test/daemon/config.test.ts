import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ConfigValidator, formatPath, loadConfig, parseConfigText } from '../../daemon/config.js';
import { createDefaultRegistry } from '../../drivers/index.js';
import { configFile, defaultConfig, removeTempDirs } from './helpers.js';

function issuesOf(yaml: string): string[] {
  try {
    new ConfigValidator(createDefaultRegistry()).validate(parseConfigText(yaml));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  return [];
}

const PIEZO = `rig: {seed: 1}
instruments:
  piezo0: {kind: piezo, impl: sim, rangeUm: [100, 100, 100]}
`;

describe('config', () => {
  afterAll(removeTempDirs);
  it('loads config/default.yaml and fills the defaults', async () => {
    const cfg = await loadConfig(defaultConfig);
    expect(cfg.rig).toMatchObject({ seed: 1, clock: 'real', speed: 1 });
    expect(cfg.instruments.piezo0).toMatchObject({ kind: 'piezo', impl: 'sim', rangeUm: [100, 100, 100] });
    expect(cfg.demo).toMatchObject({ enabled: true, plan: 'antibunching-scan' });
    expect(issuesOf(PIEZO)).toEqual([]);
  });

  it.each<[string, string, string]>([
    ['a negative range', PIEZO.replace('[100, 100, 100]', '[100, 100, -5]'), 'instruments.piezo0.rangeUm[2]: must be > 0'],
    ['a misspelled instrument key', PIEZO.replace('rangeUm', 'rangUm'), "instruments.piezo0.rangUm: unknown key (did you mean 'rangeUm'?)"],
    ['a misspelled top-level key', PIEZO.replace('rig:', 'rigg: {seed: 1}\nrig:'), "rigg: unknown key (did you mean 'rig'?)"],
    ['a missing required key', PIEZO.replace('rig: {seed: 1}', 'rig: {name: x}'), 'rig.seed: is required'],
    ['a wrong type', PIEZO.replace('seed: 1', 'seed: one'), 'rig.seed: must be integer'],
    ['a bad enum value', PIEZO.replace('seed: 1', 'seed: 1, clock: fast'), 'rig.clock: must be one of "real", "scaled", "virtual"'],
    ['an unknown instrument kind', PIEZO.replace('kind: piezo', 'kind: laser'), `instruments.piezo0.kind: unknown instrument kind 'laser' (known: ${createDefaultRegistry().list().map((f) => f.kind).filter((k, i, a) => a.indexOf(k) === i).sort().join(', ')})`],
    ['an unknown implementation', PIEZO.replace('impl: sim', 'impl: e712'), `instruments.piezo0.impl: no 'e712' implementation of piezo (known: ${createDefaultRegistry().list().filter((f) => f.kind === 'piezo').map((f) => f.impl).join(', ')})`],
    ['a wrong-length vector', PIEZO.replace('[100, 100, 100]', '[100, 100]'), 'instruments.piezo0.rangeUm: must NOT have fewer than 3 items'],
    ['a home outside the travel', PIEZO.replace('rangeUm: [100, 100, 100]', 'rangeUm: [100, 100, 100], homeUm: [50, 150, 0]'), 'instruments.piezo0.homeUm[1]: must be ≤ rangeUm[1] (100), got 150'],
    ['a bad fault setting', PIEZO.replace('rangeUm: [100, 100, 100]', 'faults: {disconectAtMs: 5}'), "instruments.piezo0.faults.disconectAtMs: unknown key (did you mean 'disconnectAtMs'?)"],
    ['an instrument id that cannot name a stream', PIEZO.replace('piezo0:', '"piezo.0":'), 'instruments["piezo.0"]: invalid name'],
  ])('names the bad key: %s', (_what, yaml, issue) => {
    expect(issuesOf(yaml)).toContain(issue);
  });

  it('reports every problem in one pass, top level and instruments alike', () => {
    const issues = issuesOf(PIEZO.replace('seed: 1', 'seed: 1, speeed: 2').replace('[100, 100, 100]', '[0, 100, 100]'));
    expect(issues).toEqual(["rig.speeed: unknown key (did you mean 'speed'?)", 'instruments.piezo0.rangeUm[0]: must be > 0']);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    expect(() => parseConfigText('rig:\n  seed: 1\n  seed: 2\n')).toThrow(/line 3, column 3: Map keys must be unique/);
    expect(() => parseConfigText('rig: [1, 2\n')).toThrow(ConfigError);
  });

  it('an unreadable file is a ConfigError naming the file', async () => {
    await expect(loadConfig('/nonexistent/rig.yaml')).rejects.toThrow(/\/nonexistent\/rig.yaml: invalid config:\n {2}cannot read: ENOENT/);
  });

  it('a file with a broken key names it', async () => {
    const file = configFile((y) => y.replace('settleToleranceNm: 5', 'settleToleranceNm: -5'));
    await expect(loadConfig(file)).rejects.toThrow(/instruments\.piezo0\.settleToleranceNm: must be > 0/);
  });

  it('writes paths the way the YAML reads', () => {
    expect(formatPath(['instruments', 'piezo0', 'rangeUm', 2])).toBe('instruments.piezo0.rangeUm[2]');
    expect(formatPath([])).toBe('(top level)');
    expect(formatPath(['scene', 'a b'])).toBe('scene["a b"]');
  });
});
