/** Cross-checks against NumPy run only where python3 with numpy is installed (the project never needs Python). */
import { spawnSync } from 'node:child_process';

/** True when `python3 -c "import numpy"` succeeds. */
export const hasNumpy: boolean = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
