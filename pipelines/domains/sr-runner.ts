/**
 * Running the SR network for a session or an offline reconstruction:
 * in-process (CLI, benchmark, tests) or in a worker thread (the daemon's
 * online pipeline: its event loop never waits on tfjs). Both implement
 * SrRunner and give identical numbers (same backend: wasm, pinned).
 *
 * Fine-tuning is the pre-training loss on the given frames (unsupervised
 * LR consistency); each step draws up to `batch` frames and a cyclic LR
 * shift per frame from Rng.derive(seed, `finetune/<step>`), so the same
 * frames and seed give the same weights.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as TF from '@tensorflow/tfjs';
import { Rng } from '../../drivers/core/rng.js';
import { loadSrModel, type TrainedOn } from './model-io.js';
import { SrNet, type SrConfig } from './srnet.js';

export interface SrLoadSpec {
  /** A saved model folder; omitted: a fresh network from `config` and `seed`. */
  modelDir?: string;
  config: SrConfig;
  seed: number;
  /** Adam learning rate for fine-tuning. */
  lr: number;
}

export interface SrLoaded {
  config: SrConfig;
  trainedOn?: TrainedOn;
  fresh: boolean;
  backend: string;
}

export interface SrRunner {
  load(spec: SrLoadSpec): Promise<SrLoaded>;
  /** `steps` Adam steps on `frames` ([a, a, C] each); returns the loss of each step. */
  finetune(frames: Float32Array[], a: number, steps: number, batch: number, seed: number): Promise<number[]>;
  /** SR of each frame and its LR-consistency loss MSE(lr, down(sr)). */
  predict(frames: Float32Array[], a: number): Promise<{ sr: Float32Array[]; lrLoss: number[] }>;
  close(): Promise<void>;
}

/** Cyclic roll of an LR frame [a, a, C] by (dr, dc). */
export function rollFrame(x: Float32Array, a: number, C: number, dr: number, dc: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < a; r++)
    for (let c = 0; c < a; c++) {
      const src = ((((r + dr) % a) * a + ((c + dc) % a)) * C);
      out.set(x.subarray(src, src + C), (r * a + c) * C);
    }
  return out;
}

export class InProcessSr implements SrRunner {
  private net: SrNet | undefined;
  private optimizer: TF.Optimizer | undefined;
  private step = 0;

  constructor(readonly tf: typeof TF) {}

  static async create(): Promise<InProcessSr> {
    return new InProcessSr(await loadWasmTf());
  }

  async load(spec: SrLoadSpec): Promise<SrLoaded> {
    this.net?.dispose();
    this.optimizer?.dispose();
    let trainedOn: TrainedOn | undefined;
    if (spec.modelDir) {
      const m = loadSrModel(this.tf, spec.modelDir);
      this.net = m.net;
      trainedOn = m.json.trainedOn;
    } else this.net = SrNet.create(this.tf, spec.config, spec.seed);
    this.optimizer = this.tf.train.adam(spec.lr);
    this.step = 0;
    return { config: this.net.config, ...(trainedOn ? { trainedOn } : {}), fresh: !spec.modelDir, backend: this.tf.getBackend() };
  }

  private requireNet(): SrNet {
    if (!this.net) throw new Error('SR runner: no network loaded');
    return this.net;
  }

  async finetune(frames: Float32Array[], a: number, steps: number, batch: number, seed: number): Promise<number[]> {
    const net = this.requireNet();
    const C = net.config.components;
    if (frames.length === 0 || steps <= 0) return [];
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const rng = Rng.derive(seed, `finetune/${this.step++}`);
      const B = Math.min(batch, frames.length);
      const x = new Float32Array(B * a * a * C);
      for (let b = 0; b < B; b++) x.set(rollFrame(frames[rng.int(frames.length)]!, a, C, rng.int(a), rng.int(a)), b * a * a * C);
      const t = this.tf.tensor4d(x, [B, a, a, C]);
      losses.push(net.trainStep(this.optimizer!, t));
      t.dispose();
    }
    return losses;
  }

  async predict(frames: Float32Array[], a: number): Promise<{ sr: Float32Array[]; lrLoss: number[] }> {
    const net = this.requireNet();
    const tf = this.tf;
    const C = net.config.components;
    const sr = net.predict(frames, a);
    const n = a * net.config.factor;
    const lrLoss = frames.map((lr, i) => tf.tidy(() => tf.losses.meanSquaredError(tf.tensor4d(lr, [1, a, a, C]), net.downsample(tf.tensor4d(sr[i]!, [1, n, n, C]))).dataSync()[0]!));
    return { sr, lrLoss };
  }

  async close(): Promise<void> {
    this.net?.dispose();
    this.optimizer?.dispose();
    this.net = undefined;
  }
}

/** tfjs on wasm (pinned: a replay needs the same backend for identical results). */
export async function loadWasmTf(): Promise<typeof TF> {
  const { loadTf } = await import('../core/tf.js');
  const { createLogger } = await import('../../drivers/core/log.js');
  const level = process.env.QSCOPE_LOG_LEVEL ? {} : { level: 'warn' as const };
  const { tf, backend, skipped } = await loadTf({ prefer: 'wasm', log: createLogger(level).child({ owner: 'tf' }) });
  if (backend !== 'wasm') throw new Error(`tfjs: the SR network needs the wasm backend, got '${backend}' (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`);
  return tf;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('qscope package root not found');
    dir = up;
  }
  return dir;
}

type Method = 'load' | 'finetune' | 'predict';

/** The SR network in a worker thread (dist/pipelines/domains/sr-worker.js). */
export class SrWorker implements SrRunner {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`SR worker: ${m.error}`));
      else p.resolve(m.result);
    });
    const failAll = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => failAll(new Error(`SR worker crashed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new Error(`SR worker exited (code ${code})`)));
  }

  static async start(): Promise<SrWorker> {
    const script = join(packageRoot(), 'dist', 'pipelines', 'domains', 'sr-worker.js');
    if (!existsSync(script)) throw new Error(`${script}: missing, run \`npm run build\``);
    const worker = new Worker(script);
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(`SR worker: ${m.error}`))));
      worker.once('error', reject);
    });
    return new SrWorker(worker);
  }

  private call<T>(method: Method, args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, method, args });
    });
  }

  load(spec: SrLoadSpec): Promise<SrLoaded> {
    return this.call('load', [spec]);
  }
  finetune(frames: Float32Array[], a: number, steps: number, batch: number, seed: number): Promise<number[]> {
    return this.call('finetune', [frames, a, steps, batch, seed]);
  }
  predict(frames: Float32Array[], a: number): Promise<{ sr: Float32Array[]; lrLoss: number[] }> {
    return this.call('predict', [frames, a]);
  }
  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
