/**
 * DLNet checkpoints: the model files through pipelines/core/tf-files.ts
 * (`model.json` + `weights.bin`, the tfjs layers format) plus the Adam state
 * (`optimizer.json` + `optimizer.bin`) that makes training resumable.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { loadLayersModel, modelHash as layersModelHash, saveLayersModel } from '../core/tf-files.js';

/** Writes a file atomically (temp + rename) so a crash mid-checkpoint leaves the previous one intact. */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}

/** model.json + weights.bin (pipelines/core/tf-files.ts, shared with g2). */
export async function saveModel(_tf: typeof TF, model: TF.LayersModel, dir: string): Promise<void> {
  await saveLayersModel(model, dir);
}

export async function loadModel(_tf: typeof TF, dir: string): Promise<TF.LayersModel> {
  return loadLayersModel(dir);
}

/** SHA-256 (hex) of model.json + weights.bin: the model hash a session records. */
export async function modelHash(dir: string): Promise<string> {
  return layersModelHash(dir);
}

/** Optimizer state (Adam moments + iteration count) beside a checkpoint. */
export async function saveOptimizer(optimizer: TF.Optimizer, dir: string): Promise<void> {
  const named = await optimizer.getWeights();
  const specs: { name: string; shape: number[]; offset: number; length: number }[] = [];
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const { name, tensor } of named) {
    const data = (await tensor.data()) as Float32Array;
    specs.push({ name, shape: tensor.shape, offset, length: data.length });
    parts.push(Float32Array.from(data));
    offset += data.length;
  }
  const all = new Float32Array(offset);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  await writeAtomic(join(dir, 'optimizer.bin'), new Uint8Array(all.buffer));
  await writeAtomic(join(dir, 'optimizer.json'), JSON.stringify(specs));
}

export async function loadOptimizer(tf: typeof TF, optimizer: TF.Optimizer, dir: string): Promise<void> {
  const specs = JSON.parse(await readFile(join(dir, 'optimizer.json'), 'utf8')) as { name: string; shape: number[]; offset: number; length: number }[];
  const bin = await readFile(join(dir, 'optimizer.bin'));
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: tf.tensor(all.subarray(s.offset, s.offset + s.length), s.shape) })));
}
