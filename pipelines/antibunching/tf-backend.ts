/**
 * Backend for g2 training and inference: foundation's loadTf, preferring
 * wasm (training needs its filter-gradient kernel, which loadTf registers);
 * `QSCOPE_TF_BACKEND` still pins another.
 */
import { loadTf } from '../core/tf.js';

export async function useTrainingBackend(): Promise<string> {
  const { backend } = await loadTf({ prefer: (process.env.QSCOPE_TF_BACKEND as 'wasm' | undefined) ?? 'wasm' });
  return backend;
}
