import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../drivers/core/log.js';
import { loadTf } from '../../../pipelines/core/tf.js';
import { root } from '../../daemon/helpers.js';

/** A logger whose JSON lines land in `lines`. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { log, lines };
}

/** Whether @tensorflow/tfjs-node is installed and loads (a child process: a broken install may not even throw cleanly). */
function tfjsNodeLoads(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
  } catch {
    return false;
  }
  return spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { cwd: root, stdio: 'ignore' }).status === 0;
}

describe('loadTf backend selection', () => {
  const env = process.env.QSCOPE_TF_BACKEND;
  afterEach(() => {
    if (env === undefined) delete process.env.QSCOPE_TF_BACKEND;
    else process.env.QSCOPE_TF_BACKEND = env;
  });

  it('picks tfjs-node when it loads, else wasm, and logs which and why', async () => {
    delete process.env.QSCOPE_TF_BACKEND;
    const { log, lines } = capture();
    const { tf, backend, skipped } = await loadTf({ log });
    // This machine has no working tfjs-node (its installer cannot download libtensorflow): wasm is expected.
    expect(backend).toBe(tfjsNodeLoads() ? 'tensorflow' : 'wasm');
    expect(tf.getBackend()).toBe(backend);
    if (backend === 'wasm') expect(skipped.map((s) => s.backend)).toEqual(['tensorflow']);
    expect(lines.at(-1)).toMatchObject({ msg: `tfjs backend: ${backend}`, backend });
    const y = tf.tidy(() => tf.tensor1d([1, 2, 3]).mul(2).sum().dataSync()[0]);
    expect(y).toBe(12);
  });

  it('wasm comes with the filter gradient registered (conv training works)', async () => {
    const { tf, backend } = await loadTf({ prefer: 'wasm', log: capture().log });
    expect(backend).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('honours a preference and QSCOPE_TF_BACKEND, and rejects a bad one by name', async () => {
    const { tf, backend } = await loadTf({ prefer: 'cpu', log: capture().log });
    expect(backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    process.env.QSCOPE_TF_BACKEND = 'wasm';
    expect((await loadTf({ log: capture().log })).backend).toBe('wasm');
    process.env.QSCOPE_TF_BACKEND = 'gpu';
    await expect(loadTf({ log: capture().log })).rejects.toThrow(/^QSCOPE_TF_BACKEND: must be one of tensorflow, wasm, cpu, got 'gpu'/);
  });
});
