/**
 * Running DLNet: in-process (CLI, benchmarks, tests) or in a worker thread
 * (the daemon, whose event loop must never wait on tfjs). Both implement
 * DLNetRunner and give identical numbers (same backend, same model).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as TF from '@tensorflow/tfjs';
import { DLNET_SIZE, packInput, unpackOutput } from './dlnet.js';
import type { DLNetRunner } from './methods.js';

/** The package root (the folder with package.json), from source or from dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('qscope package root not found');
    dir = up;
  }
  return dir;
}

/** The committed model: pipelines/cosy/model/ in the package. */
export function defaultModelDir(): string {
  return join(packageRoot(), 'pipelines', 'cosy', 'model');
}

/** Runs DLNet on a batch of [0,1]-scaled maps; returns the completed maps (same scale). */
export function predictMaps(tf: typeof TF, model: TF.LayersModel, inputs: ArrayLike<number>[], masks: ArrayLike<number>[], n1: number, n2: number): Float64Array[] {
  const y = tf.tidy(() => model.predict(tf.tensor4d(packInput(inputs, masks, n1, n2), [inputs.length, DLNET_SIZE, DLNET_SIZE, 2])) as TF.Tensor);
  const data = y.dataSync() as Float32Array;
  y.dispose();
  return unpackOutput(data, inputs.length, n1, n2);
}

export class InProcessDLNet implements DLNetRunner {
  private constructor(
    readonly tf: typeof TF,
    readonly model: TF.LayersModel,
  ) {}

  static async load(modelDir: string = defaultModelDir()): Promise<InProcessDLNet> {
    const { loadWasmTf } = await import('./wasm-grad.js');
    const { loadModel } = await import('./model-io.js');
    const tf = await loadWasmTf();
    return new InProcessDLNet(tf, await loadModel(tf, modelDir));
  }

  async predict(inputs: Float64Array[], masks: Uint8Array[], n1: number, n2: number): Promise<Float64Array[]> {
    return predictMaps(this.tf, this.model, inputs, masks, n1, n2);
  }
}

interface Reply {
  id: number;
  outputs?: Float64Array[];
  error?: string;
}

/** DLNet in a worker thread (dist/pipelines/cosy/dlnet-worker.js). */
export class DLNetWorker implements DLNetRunner {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: Float64Array[]) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly backend: string,
  ) {
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`DLNet worker: ${m.error}`));
      else p.resolve(m.outputs!);
    });
    const failAll = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => failAll(new Error(`DLNet worker crashed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new Error(`DLNet worker exited (code ${code})`)));
  }

  static async start(modelDir: string = defaultModelDir()): Promise<DLNetWorker> {
    const script = join(packageRoot(), 'dist', 'pipelines', 'cosy', 'dlnet-worker.js');
    if (!existsSync(script)) throw new Error(`${script}: missing, run \`npm run build\``);
    const worker = new Worker(script, { workerData: { modelDir } });
    const backend = await new Promise<string>((resolve, reject) => {
      worker.once('message', (m: { ready?: string; error?: string }) => (m.ready ? resolve(m.ready) : reject(new Error(`DLNet worker: ${m.error}`))));
      worker.once('error', reject);
    });
    return new DLNetWorker(worker, backend);
  }

  predict(inputs: Float64Array[], masks: Uint8Array[], n1: number, n2: number): Promise<Float64Array[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, inputs, masks, n1, n2 });
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
