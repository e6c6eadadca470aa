/** `qscope daemon --web ADDR`: the URL to open is logged at start (what `npm start` prints); a bad address exits 2. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CliProcess, defaultConfig, removeTempDirs, runCli } from '../helpers.js';

const running: CliProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});
afterAll(removeTempDirs);

const EPHEMERAL = ['--control', 'tcp://127.0.0.1:0', '--data', 'tcp://127.0.0.1:0', '--no-demo'];

describe('qscope daemon --web', () => {
  it('logs the page URL; a non-loopback bind logs it with the token, and the page needs it', async () => {
    const p = new CliProcess(['daemon', '--config', defaultConfig, ...EPHEMERAL, '--web', '0.0.0.0:0']);
    running.push(p);
    const line = await p.waitForMsg(/^web view: open /);
    const url = new URL(String(line.url));
    expect(line.msg).toBe(`web view: open ${url.href}`);
    expect(url.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await fetch(`http://127.0.0.1:${url.port}/`)).status).toBe(401);
    const withToken = await fetch(url, { redirect: 'manual' });
    expect(withToken.status).toBe(303);
    const page = await fetch(`http://127.0.0.1:${url.port}/`, { headers: { cookie: withToken.headers.get('set-cookie')!.split(';')[0]! } });
    expect(page.status).toBe(200);
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    expect(p.lines.some((l) => l.msg === 'service web stopped')).toBe(true);
  });

  it('takes the address from QSCOPE_WEB when --web is not given (the suite sets an ephemeral one)', async () => {
    expect(process.env.QSCOPE_WEB).toBe('127.0.0.1:0');
    const p = new CliProcess(['daemon', '--config', defaultConfig, ...EPHEMERAL]);
    running.push(p);
    const url = new URL(String((await p.waitForMsg(/^web view: open /)).url));
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).not.toBe('8090');
    expect(url.search).toBe('');
    expect((await fetch(url)).status).toBe(200);
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });

  it('refuses a malformed address with exit code 2, and `off` serves no page', async () => {
    const bad = runCli(['daemon', '--config', defaultConfig, ...EPHEMERAL, '--web', 'nowhere']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--web: web: listen address 'nowhere' must be HOST:PORT/);
    const p = new CliProcess(['daemon', '--config', defaultConfig, ...EPHEMERAL, '--web', 'off']);
    running.push(p);
    await p.waitForMsg(/^qscope daemon ready$/);
    expect(p.lines.some((l) => l.msg === 'web: disabled (web.enabled: false)')).toBe(true);
    expect(p.lines.some((l) => /^web view: open/.test(l.msg))).toBe(false);
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });
});
