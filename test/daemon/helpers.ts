/** Spawning the built CLI and reading its JSON log lines, event-driven (no sleeps). */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = join(root, 'dist', 'daemon', 'cli.js');
export const defaultConfig = join(root, 'config', 'default.yaml');

const tempDirs: string[] = [];
/** A fresh temporary directory, removed by `removeTempDirs()`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
/** Removes every directory `tempDir` made (call from afterAll). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs `qscope ARGS` to completion. */
export function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a config derived from default.yaml by text edits; returns its path. */
export function configFile(edit: (yaml: string) => string = (y) => y): string {
  const dir = tempDir('qscope-config-');
  const file = join(dir, 'rig.yaml');
  writeFileSync(file, edit(readFileSync(defaultConfig, 'utf8')));
  return file;
}

export interface LogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

/** A running CLI process whose stdout JSON lines are collected as they arrive. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }[] = [];

  /** `cwd` defaults to a fresh temporary directory, so whatever the daemon writes (sessions) stays out of the repo. */
  constructor(args: string[], cwd: string = tempDir('qscope-daemon-'), env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, [cli, ...args], { cwd, env });
    this.child.stderr.setEncoding('utf8').on('data', (s: string) => this.stderr.push(s));
    createInterface({ input: this.child.stdout }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text, level: 0 };
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.pred(line) ? (w.resolve(line), false) : true));
    });
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        for (const w of this.waiters) w.reject(new Error(`process exited (${code ?? signal}) before the expected log line; stderr: ${this.stderr.join('')}`));
        this.waiters = [];
        resolve({ code, signal });
      }),
    );
  }

  /** Resolves with the first log line (already seen or to come) matching `pred`. */
  waitFor(pred: (l: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.reject(new Error('process already exited'));
    return new Promise((resolve, reject) => this.waiters.push({ pred, resolve, reject }));
  }

  waitForMsg(re: RegExp): Promise<LogLine> {
    return this.waitFor((l) => re.test(l.msg));
  }
}
