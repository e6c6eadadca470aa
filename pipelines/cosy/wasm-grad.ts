/**
 * tfjs for DLNet on the wasm backend, with the filter-gradient kernel the
 * g2 engineer registers in pipelines/core/tf.ts (it also serves
 * conv2dTranspose's filter gradient; checked against cpu in test/cosy).
 *
 * TEMPORARY: replace by pipelines/core/tf.ts's `loadTf()` once foundation's
 * backend selection lands there.
 */
import type * as TF from '@tensorflow/tfjs';
import { registerWasmConv2DBackpropFilter, registerWasmConv2DBackpropInput } from '../core/tf.js';

export async function loadWasmTf(): Promise<typeof TF> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  if (tf.getBackend() !== 'wasm') {
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('tfjs: the wasm backend failed to initialise');
  }
  await tf.ready();
  registerWasmConv2DBackpropFilter();
  registerWasmConv2DBackpropInput();
  return tf;
}
