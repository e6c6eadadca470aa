/** Facts about the installed package: its version and root directory. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (holds package.json named qscope), from source or from dist/. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'qscope') return dir;
    dir = dirname(dir);
  }
  throw new Error('qscope package.json not found above ' + fileURLToPath(import.meta.url));
}

export const packageRoot: string = findRoot();

/** The software version from package.json (recorded with every session). */
export const version: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** The simulated rig `npm start` runs: config/default.yaml of this package. */
export const defaultConfigFile: string = join(packageRoot, 'config', 'default.yaml');
