/**
 * Runs before each test file: a private rig-lock directory (daemon/rig-lock.ts)
 * and an ephemeral web-view port per file, so files running in parallel with the same rig name do not refuse
 * each other's daemons. CLI processes a test spawns inherit it. A test that
 * checks the rig lock itself makes its own directory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.QSCOPE_LOCK_DIR = mkdtempSync(join(tmpdir(), 'qscope-test-locks-'));
// Daemons a test starts serve their browser view on an ephemeral port unless the test says otherwise
// (two daemons on the default 8090 would refuse each other: a service that cannot start stops the daemon).
process.env.QSCOPE_WEB ??= '127.0.0.1:0';
