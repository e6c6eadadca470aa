/**
 * The daemon side of the CNN worker (cnn-worker.ts): one worker thread per
 * client, requests answered in order, `close()` ends the thread.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { modelHash } from '../core/model-files.js';

/** Directory of the committed model (pipelines/antibunching/model), resolved from the compiled or source location. */
export function defaultModelDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/pipelines/antibunching → pipelines/antibunching/model at the package root; pipelines/antibunching (tsx/vitest) → ./model.
  return here.includes(`${join('dist', 'pipelines')}`) ? join(here, '..', '..', '..', 'pipelines', 'antibunching', 'model') : join(here, 'model');
}

export class CnnClient {
  private readonly worker: Worker;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: { g2: Float32Array; std: Float32Array }) => void; reject: (e: Error) => void }>();
  /** Resolves with the tfjs backend once the model is loaded. */
  readonly ready: Promise<string>;
  readonly modelHash: string;

  constructor(readonly modelDir: string = defaultModelDir(), readonly bins = 215) {
    this.modelHash = modelHash(modelDir);
    const here = dirname(fileURLToPath(import.meta.url));
    // The worker runs compiled JS; from sources (vitest) use the dist copy.
    const js = here.includes(join('dist', 'pipelines')) ? join(here, 'cnn-worker.js') : join(here, '..', '..', 'dist', 'pipelines', 'antibunching', 'cnn-worker.js');
    this.worker = new Worker(js, { workerData: { modelDir, bins } });
    let readyResolve!: (b: string) => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((readyResolve = res), (readyReject = rej)));
    this.worker.on('message', (m: { id: number; g2?: Float32Array; std?: Float32Array; error?: string; backend?: string }) => {
      if (m.id === -1) return m.error ? readyReject(new Error(`cnn worker: ${m.error}`)) : readyResolve(m.backend!);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(`cnn worker: ${m.error}`));
      else p.resolve({ g2: m.g2!, std: m.std! });
    });
    // Nobody may be awaiting `ready` yet (predict is lazy): its failure is reported through predict, not as an unhandled rejection.
    this.ready.catch(() => undefined);
    this.worker.on('error', (err) => this.failAll(err));
    // A worker that exits (crash, OOM, terminate) answers nothing more: pending requests must not hang.
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new Error(`cnn worker: exited (code ${code}) before answering`));
    });
    this.rejectReady = readyReject;
  }

  private exited = false;
  private rejectReady: (err: Error) => void = () => undefined;

  private failAll(err: Error): void {
    this.rejectReady(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** g2(0) and σ for `n` histograms (row-major n × bins). */
  async predict(histograms: Float64Array, n: number): Promise<{ g2: Float32Array; std: Float32Array }> {
    if (histograms.length !== n * this.bins) throw new RangeError(`histograms: length ${histograms.length} is not n·bins = ${n}·${this.bins}`);
    await this.ready;
    if (this.exited) throw new Error('cnn worker: closed');
    const id = this.next++;
    const copy = Float64Array.from(histograms);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, histograms: copy, n }, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
