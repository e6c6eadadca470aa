/**
 * Saving and loading DLNet (and its optimizer state) as plain files, without
 * tfjs-node: `model.json` (topology + weights manifest, the tfjs layers
 * format) and `weights.bin`, so `tf.loadLayersModel` in a browser could read
 * them too. A SHA-256 of both files is the model hash sessions record.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';

function toArrayBuffer(data: ArrayBuffer | ArrayBuffer[]): ArrayBuffer {
  if (!Array.isArray(data)) return data;
  const total = data.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out.buffer;
}

/** Writes a file atomically (temp + rename) so a crash mid-checkpoint leaves the previous one intact. */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}

export async function saveModel(tf: typeof TF, model: TF.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = toArrayBuffer(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
      await writeAtomic(join(dir, 'weights.bin'), new Uint8Array(weights));
      const json = { format: 'layers-model', generatedBy: 'qscope', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
      await writeAtomic(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

export async function loadModel(tf: typeof TF, dir: string): Promise<TF.LayersModel> {
  let json: { modelTopology: object; weightsManifest: { weights: TF.io.WeightsManifestEntry[] }[] };
  try {
    json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  } catch (err) {
    throw new Error(`${join(dir, 'model.json')}: cannot read DLNet model (${(err as Error).message})`);
  }
  const bin = await readFile(join(dir, 'weights.bin'));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData }));
}

/** SHA-256 (hex) of model.json + weights.bin: the model hash a session records. */
export async function modelHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  h.update(await readFile(join(dir, 'model.json')));
  h.update(await readFile(join(dir, 'weights.bin')));
  return h.digest('hex');
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
