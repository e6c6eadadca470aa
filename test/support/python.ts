/** Cross-checks against NumPy run only where python3 with numpy is installed (the project never needs Python). */
import { spawnSync } from 'node:child_process';

/** True when `python3 -c "import numpy"` succeeds. */
export const hasNumpy: boolean = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/**
 * A python3 that can import every one of `modules` (e.g. `['zmq', 'numpy']`): the `python3` on PATH, else
 * Debian's /usr/bin/python3 (where apt's python3-zmq and python3-h5py install when PATH has another python);
 * undefined when neither can.
 */
export function pythonWith(modules: readonly string[]): string | undefined {
  for (const exe of ['python3', '/usr/bin/python3']) {
    if (spawnSync(exe, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0) return exe;
  }
  return undefined;
}

/** A python3 that can `import zmq`, for the reference bridges; undefined when none. */
export const pythonWithZmq: string | undefined = pythonWith(['zmq']);
