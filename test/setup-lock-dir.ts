/**
 * Runs before each test file: a private rig-lock directory (daemon/rig-lock.ts)
 * per file, so files running in parallel with the same rig name do not refuse
 * each other's daemons. CLI processes a test spawns inherit it. A test that
 * checks the rig lock itself makes its own directory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.QSCOPE_LOCK_DIR = mkdtempSync(join(tmpdir(), 'qscope-test-locks-'));
