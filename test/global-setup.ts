/**
 * Runs once before the suite. Tests that spawn the CLI (`node dist/daemon/cli.js`)
 * or import `qscope/native` as a package use the built `dist/`, so it is
 * rebuilt here (tsc) when any TypeScript source is newer than its output.
 * `npm install` builds it too; this only keeps an edited tree honest.
 * The native addon is not rebuilt here (that is `npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['config', 'daemon', 'drivers', 'pipelines', 'native'];

function* tsSources(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsSources(p);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield p;
  }
}

function staleOutput(): string | undefined {
  for (const d of SOURCE_DIRS) {
    for (const src of tsSources(join(root, d))) {
      const out = join(root, 'dist', relative(root, src)).replace(/\.ts$/, '.js');
      if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) return relative(root, src);
    }
  }
  return undefined;
}

export default function setup(): void {
  if (!existsSync(join(root, 'build', 'Release', 'qscope_native.node'))) {
    throw new Error('native addon not built: run `npm install` (or `npm run build`) first');
  }
  const stale = staleOutput();
  if (!stale) return;
  process.stderr.write(`[global-setup] dist/ is older than ${stale}: running tsc\n`);
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
  } catch {
    // tsc still emits on type errors; the suites that need dist/ report what is broken.
    process.stderr.write('[global-setup] tsc reported errors (dist/ was still written)\n');
  }
  const cli = join(root, 'dist', 'daemon', 'cli.js');
  if (existsSync(cli)) chmodSync(cli, 0o755);
}
