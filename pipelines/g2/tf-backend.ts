/**
 * Backend for g2 training and inference: wasm (training needs its missing
 * filter-gradient kernel, registered here). Until foundation's loadTf() is
 * merged this picks wasm directly.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConv2DBackpropFilter } from '../core/tf.js';

export async function useTrainingBackend(): Promise<string> {
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
  await tf.ready();
  registerWasmConv2DBackpropFilter();
  return tf.getBackend();
}
