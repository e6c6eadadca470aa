/**
 * Saving and loading tfjs layers models as files without tfjs-node (which
 * cannot install here): `model.json` (topology + weight manifest) and
 * `weights.bin`, the layout `tf.loadLayersModel('file://…')` would use.
 * Writes go to a temporary name then rename, so a checkpoint interrupted by
 * a crash never replaces a good one with half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Saves `model` into directory `dir` (created if missing). */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData ? Buffer.from(tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[])) : Buffer.alloc(0);
      const json = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileSync(join(dir, 'weights.bin.tmp'), weights);
      writeFileSync(join(dir, 'model.json.tmp'), JSON.stringify(json));
      renameSync(join(dir, 'weights.bin.tmp'), join(dir, 'weights.bin'));
      renameSync(join(dir, 'model.json.tmp'), join(dir, 'model.json'));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
}

/** Loads a model saved by saveLayersModel from `dir`; throws naming the missing file. */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  let json: { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  let weights: Buffer;
  try {
    json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    weights = readFileSync(join(dir, 'weights.bin'));
  } catch (err) {
    throw new Error(`${dir}: cannot read model.json/weights.bin (${(err as Error).message})`);
  }
  const data = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]?.weights ?? [], weightData: data }));
}

/** The model hash recorded with sessions (see model-files.ts; kept here for existing importers). */
export { modelHash } from './model-files.js';
