/**
 * tfjs for DLNet: always the wasm backend (pinned, so a session's DLNet
 * outputs replay bit-identically), with the kernels wasm lacks or ships slow
 * registered by pipelines/core/tf.ts. Logs the choice at `warn` level only
 * unless QSCOPE_LOG_LEVEL says otherwise (the CLI, workers and tests call it).
 */
import type * as TF from '@tensorflow/tfjs';
import { createLogger } from '../../drivers/core/log.js';
import { loadTf } from '../core/tf.js';

export async function loadWasmTf(): Promise<typeof TF> {
  const level = process.env.QSCOPE_LOG_LEVEL ? {} : { level: 'warn' as const };
  const { tf, backend, skipped } = await loadTf({ prefer: 'wasm', log: createLogger(level).child({ owner: 'tf' }) });
  if (backend !== 'wasm') throw new Error(`tfjs: DLNet needs the wasm backend, got '${backend}' (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`);
  return tf;
}
