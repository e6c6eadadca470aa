/** Readable logs on a terminal, JSON lines otherwise or when asked. */
import { afterAll, describe, expect, it } from 'vitest';
import { resolveLogFormat } from '../../drivers/core/log.js';
import { CliProcess, configFile, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

describe('log format', () => {
  it('pretty on a TTY, JSON otherwise; --log-format and QSCOPE_LOG_FORMAT win; a bad one is refused', () => {
    const saved = process.env.QSCOPE_LOG_FORMAT;
    try {
      delete process.env.QSCOPE_LOG_FORMAT;
      expect(resolveLogFormat(undefined, true)).toBe('pretty');
      expect(resolveLogFormat(undefined, false)).toBe('json');
      expect(resolveLogFormat('json', true)).toBe('json');
      expect(resolveLogFormat('pretty', false)).toBe('pretty');
      process.env.QSCOPE_LOG_FORMAT = 'json';
      expect(resolveLogFormat(undefined, true)).toBe('json');
      expect(() => resolveLogFormat('xml', true)).toThrow(/must be one of pretty, json, got 'xml'/);
    } finally {
      if (saved === undefined) delete process.env.QSCOPE_LOG_FORMAT;
      else process.env.QSCOPE_LOG_FORMAT = saved;
    }
  });

  it('`qscope daemon --log-format pretty` writes readable lines: time, level, [owner], message', async () => {
    const p = new CliProcess(['daemon', '--config', configFile(), '--virtual', '--no-demo', '--log-format', 'pretty', '--control', 'tcp://127.0.0.1:0', '--data', 'tcp://127.0.0.1:0']);
    await p.waitFor((l) => /qscope daemon ready/.test(l.msg));
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    // Not JSON: CliProcess keeps unparsable lines as {msg: text, level: 0}.
    expect(p.lines.every((l) => l.level === 0)).toBe(true);
    expect(p.lines.map((l) => l.msg)).toEqual(expect.arrayContaining([expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[piezo0\] piezo0: ready \{"state":"ready"\}$/)]));
    expect(p.lines.at(-1)!.msg).toMatch(/INFO: qscope daemon stopped$/);
  });
});
