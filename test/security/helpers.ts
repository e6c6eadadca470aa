/** Hostile-input tests: running the built CLI in a child process and measuring what it cost. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../../drivers/core/npy.js';
import { cli, root } from '../daemon/helpers.js';

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the child, MiB (null when it died before reporting). */
  maxRssMiB: number | null;
}

/**
 * Runs `qscope ARGS` in a child with a V8 heap limit and reports its peak resident memory (measured by the
 * child itself at exit, so it covers typed-array memory outside the V8 heap too). `shell` runs it under a
 * `bash -c` prefix (e.g. `ulimit -f 200;`).
 */
export function runCliMeasured(args: string[], opts: { cwd?: string; heapMiB?: number; shellPrefix?: string; timeoutMs?: number } = {}): ChildResult {
  const boot = `process.on('exit', () => process.stderr.write('\\nMAXRSS_KB ' + process.resourceUsage().maxRSS + '\\n')); process.argv.splice(1, 0, ${JSON.stringify(cli)}); await import(${JSON.stringify(cli)});`;
  const nodeArgs = [`--max-old-space-size=${opts.heapMiB ?? 256}`, '--input-type=module', '-e', boot, '--', ...args];
  const r = opts.shellPrefix
    ? spawnSync('bash', ['-c', `${opts.shellPrefix} exec "$0" "$@"`, process.execPath, ...nodeArgs], { cwd: opts.cwd ?? root, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 })
    : spawnSync(process.execPath, nodeArgs, { cwd: opts.cwd ?? root, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 });
  const m = /MAXRSS_KB (\d+)/.exec(r.stderr);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.replace(/\n?MAXRSS_KB \d+\n?/, ''), maxRssMiB: m ? Number(m[1]) / 1024 : null };
}

/** A small valid hbt-scan dataset folder (2×2 pixels, 2 windows, 16 bins). */
export function writeHbtDataset(dir: string, edit: { manifest?: Record<string, unknown>; counts?: Float64Array; histograms?: Float64Array } = {}): void {
  const [ny, nx, k, bins] = [2, 2, 2, 16];
  const h = edit.histograms ?? Float64Array.from({ length: ny * nx * k * bins }, (_, i) => (i * 7) % 5);
  const c = edit.counts ?? Float64Array.from({ length: ny * nx * k }, (_, i) => 1000 + i);
  writeFileSync(join(dir, 'histograms.npy'), encodeNpy(h, [ny, nx, k, bins]));
  writeFileSync(join(dir, 'counts.npy'), encodeNpy(c, [ny, nx, k]));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ kind: 'hbt-scan', version: 1, bins, binWidthNs: 2.3, zeroBin: 8, integrationS: 1, pixelSizeNm: 50, shape: [ny, nx], ...edit.manifest }),
  );
}

/** A secret outside every dataset folder: its contents must never show up anywhere. */
export const SECRET = 'root:x:0:0:TOP-SECRET-CANARY-7f3a';
