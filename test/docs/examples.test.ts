/**
 * Every documented example runs (decision 1201): the `npx qscope …` lines of
 * the ```sh blocks of README.md and docs/*.md, the control requests of the
 * ```json blocks, the TypeScript client programs, and (with python3-zmq) the
 * Python client, each against a daemon on the virtual clock in a scratch
 * directory, with ephemeral ports. A doc's `npx qscope daemon …` line starts
 * its daemon in the background; later lines talk to it (QSCOPE_CONTROL/QSCOPE_DATA).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import * as zmq from 'zeromq';
import { pythonWith } from '../support/python.js';
import { CliProcess, cli, removeTempDirs, root, tempDir } from '../daemon/helpers.js';
import { blocksOf, clientPrograms, documentationFiles, fencedBlocks, jsonExchanges, shellCommands, shellWords, type ShellCommand } from './examples.js';

afterAll(removeTempDirs);

/** The python3 with pyzmq and numpy (the Python client example), if any. */
const pyZmq = pythonWith(['zmq', 'numpy']);
/** Generous bound for one example on the virtual clock (they take seconds); a hang fails the test, never passes it. */
const COMMAND_TIMEOUT_MS = 120_000;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runProcess(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A scratch directory that looks like the repository to the examples (config/, examples/). */
function sandbox(): string {
  const dir = tempDir('qscope-examples-');
  for (const d of ['config', 'examples']) symlinkSync(join(root, d), join(dir, d));
  return dir;
}

/** This environment minus what would point the examples elsewhere (endpoints, log format). */
function withoutApiEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['QSCOPE_CONTROL', 'QSCOPE_DATA', 'QSCOPE_WEB', 'QSCOPE_LOG_FORMAT']) delete env[k];
  return env;
}

class DocRun {
  readonly cwd = sandbox();
  env: NodeJS.ProcessEnv = withoutApiEnv();
  daemon: CliProcess | undefined;

  async startDaemon(argv: string[], where: string): Promise<void> {
    expect(this.daemon, `${where}: a second daemon in one document`).toBeUndefined();
    expect(argv.some((a) => a === '--control' || a === '--data'), `${where}: examples use the default endpoints (the test substitutes ephemeral ones)`).toBe(false);
    this.daemon = new CliProcess(argv, this.cwd, { ...this.env, QSCOPE_CONTROL: 'tcp://127.0.0.1:0', QSCOPE_DATA: 'tcp://127.0.0.1:0', QSCOPE_WEB: '127.0.0.1:0', QSCOPE_LOG_FORMAT: 'json' });
    await this.daemon.waitForMsg(/^qscope daemon ready$/);
    const api = await this.daemon.waitFor((l) => typeof l.control === 'string' && typeof l.data === 'string');
    this.env = { ...this.env, QSCOPE_CONTROL: String(api.control), QSCOPE_DATA: String(api.data) };
  }

  async ensureDaemon(): Promise<void> {
    if (!this.daemon) await this.startDaemon(['daemon', '--virtual', '--no-demo'], 'test');
  }

  async command(c: ShellCommand): Promise<void> {
    const where = `${c.file}:${c.line} \`${c.text}\``;
    if (c.kind === 'qscope' && c.argv[0] === 'daemon') return this.startDaemon(c.argv, where);
    const r = c.kind === 'qscope' ? await runProcess(process.execPath, [cli, ...c.argv], this.cwd, this.env) : await runProcess(pyZmq ?? 'python3', c.argv, this.cwd, this.env);
    expect(r.code, `${where} exited ${r.code}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`).toBe(0);
  }

  async stop(): Promise<void> {
    if (!this.daemon) return;
    this.daemon.child.kill('SIGTERM');
    const { code } = await this.daemon.exited;
    expect(code, `daemon exit; stderr: ${this.daemon.stderr.join('')}`).toBe(0);
  }
}

async function request(endpoint: string, body: unknown): Promise<Record<string, unknown>> {
  const sock = new zmq.Dealer({ linger: 0, receiveTimeout: 30_000 });
  sock.connect(endpoint);
  try {
    await sock.send(JSON.stringify(body));
    const [reply] = await sock.receive();
    return JSON.parse(reply!.toString()) as Record<string, unknown>;
  } finally {
    sock.close();
  }
}

const docs = documentationFiles(root).map((file) => ({ file, blocks: blocksOf(root, file) }));

describe('the example extractor', () => {
  it('reads sh lines (comments, quotes, continuations), json exchanges and client programs; refuses shell plumbing', () => {
    const md = [
      'text',
      '```sh',
      'npm install',
      "npx qscope run antibunching-scan -p 'method=pooled' \\",
      '  --virtual   # ~5 s',
      'python3 examples/python_client.py antibunching-scan nx=2',
      '```',
      '```text',
      'npx qscope status | pause',
      '```',
      '- item',
      '  ```json',
      '  {"id": 1, "method": "daemon.status"}',
      '  {"id": 1, "error": {"code": -32601}}',
      '  ```',
    ].join('\n');
    const blocks = fencedBlocks(md, 'X.md');
    expect(blocks.map((b) => [b.lang, b.line])).toEqual([
      ['sh', 3],
      ['text', 9],
      ['json', 13],
    ]);
    const cmds = shellCommands(blocks);
    expect(cmds.map((c) => [c.kind, c.line, c.argv])).toEqual([
      ['qscope', 4, ['run', 'antibunching-scan', '-p', 'method=pooled', '--virtual']],
      ['python', 6, ['examples/python_client.py', 'antibunching-scan', 'nx=2']],
    ]);
    expect(jsonExchanges(blocks)).toEqual([{ file: 'X.md', line: 13, request: { id: 1, method: 'daemon.status' }, reply: { id: 1, error: { code: -32601 } } }]);
    expect(() => shellWords('npx qscope status | pause')).toThrow(/one plain command per line/);
    expect(() => shellWords('ID=$(npx qscope sessions)')).toThrow(/'\$'/);
  });

  it('finds the examples of README.md and docs/PROTOCOL.md', () => {
    const readme = docs.find((d) => d.file.endsWith('README.md'))!;
    const protocol = docs.find((d) => d.file.endsWith('PROTOCOL.md'))!;
    expect(shellCommands(readme.blocks).length).toBeGreaterThanOrEqual(8);
    expect(jsonExchanges(protocol.blocks).length).toBeGreaterThanOrEqual(3);
    expect(clientPrograms(protocol.blocks)).toHaveLength(1);
  });
});

describe('every documented example runs', () => {
  for (const { file, blocks } of docs) {
    const commands = shellCommands(blocks);
    const exchanges = jsonExchanges(blocks);
    const programs = clientPrograms(blocks);
    if (commands.length + exchanges.length + programs.length === 0) continue;
    const name = file.replace(root + '/', '');
    it(`${name}: ${commands.filter((c) => c.kind === 'qscope').length} commands, ${exchanges.length} requests, ${programs.length} client programs`, async () => {
      const run = new DocRun();
      try {
        for (const c of commands) if (c.kind === 'qscope') await run.command(c);
        if (exchanges.length + programs.length > 0) await run.ensureDaemon();
        for (const x of exchanges) {
          const where = `${x.file}:${x.line} ${JSON.stringify(x.request)}`;
          const reply = await request(run.env.QSCOPE_CONTROL!, x.request);
          expect(reply.id, where).toEqual(x.request.id);
          if (x.reply?.error) expect((reply.error as { code?: number } | undefined)?.code, `${where}: documented error ${x.reply.error.code}, got ${JSON.stringify(reply)}`).toBe(x.reply.error.code);
          else {
            expect(reply.error, `${where}: ${JSON.stringify(reply.error)}`).toBeUndefined();
            if (x.reply?.result && typeof x.reply.result === 'object') for (const key of Object.keys(x.reply.result)) expect(reply.result, `${where}: documented result key '${key}'`).toHaveProperty(key);
          }
        }
        for (const p of programs) {
          const js = ts.transpileModule(p.lines.join('\n'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
          const r = await runProcess(process.execPath, ['--input-type=module', '-e', js], root, run.env);
          expect(r.code, `${p.file}:${p.line} client program\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`).toBe(0);
        }
      } finally {
        await run.stop();
      }
    }, 600_000);
  }

  it.runIf(pyZmq !== undefined)('the Python client examples run against a daemon (needs python3-zmq and numpy)', async () => {
    const python = docs.flatMap((d) => shellCommands(d.blocks)).filter((c) => c.kind === 'python');
    expect(python.length).toBeGreaterThan(0);
    for (const c of python) {
      const run = new DocRun();
      try {
        await run.ensureDaemon();
        await run.command(c);
      } finally {
        await run.stop();
      }
    }
  }, 300_000);
});
