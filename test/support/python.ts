/** Cross-checks against NumPy run only where python3 with numpy is installed (the project never needs Python). */
import { spawnSync } from 'node:child_process';

/** True when `python3 -c "import numpy"` succeeds. */
export const hasNumpy: boolean = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** A python3 that can `import zmq` (Debian's python3-zmq lives in /usr/bin/python3's path), for the reference bridges; undefined when none. */
export const pythonWithZmq: string | undefined = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import zmq'], { stdio: 'ignore' }).status === 0);
