/**
 * The SR network's files: `model.json` (format `qscope-srnet`, the config,
 * what it was trained on, and a tfjs-style weights manifest, so
 * pipelines/core/model-files.ts hashes it like any model) and `weights.bin`
 * (float32, in manifest order). Writes go to temporary names, then rename.
 *
 * Committed models: pipelines/domains/model/<name>/, name `type<T>-x<f>-c<C>`,
 * each with its MODEL.md.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TF from '@tensorflow/tfjs';
import { checkSrConfig, SrNet, type NamedWeight, type SrConfig } from './srnet.js';

export const SRNET_FORMAT = 'qscope-srnet';

/** What a model was trained on (for matching and for the Nyquist check). */
export interface TrainedOn {
  /** Texture type (1: labyrinths, 2: domains). */
  type: 1 | 2;
  /** Characteristic period of those textures, HR sites (Type I: the cycloid period; Type II: the measured domain period). */
  periodHr: number;
}

export interface SrModelJson {
  format: typeof SRNET_FORMAT;
  version: 1;
  config: SrConfig;
  trainedOn: TrainedOn;
  weightsManifest: [{ paths: ['weights.bin']; weights: { name: string; shape: number[]; dtype: 'float32' }[] }];
}

/** pipelines/domains/model (from source or from dist/). */
export function modelRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('qscope package root not found');
    dir = up;
  }
  return join(dir, 'pipelines', 'domains', 'model');
}

export function modelName(type: 1 | 2, factor: number, components: 1 | 3): string {
  return `type${type}-x${factor}-c${components}`;
}

export function saveSrModel(net: SrNet, trainedOn: TrainedOn, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const weights = net.weights();
  const json: SrModelJson = {
    format: SRNET_FORMAT,
    version: 1,
    config: net.config,
    trainedOn,
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  const bin = Buffer.concat(weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)));
  writeFileSync(join(dir, 'weights.bin.tmp'), bin);
  writeFileSync(join(dir, 'model.json.tmp'), JSON.stringify(json, null, 1));
  renameSync(join(dir, 'weights.bin.tmp'), join(dir, 'weights.bin'));
  renameSync(join(dir, 'model.json.tmp'), join(dir, 'model.json'));
}

/** Reads model.json (checked); throws naming the file and the problem. */
export function readSrModelJson(dir: string): SrModelJson {
  let json: SrModelJson;
  try {
    json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as SrModelJson;
  } catch (err) {
    throw new Error(`${dir}: cannot read model.json (${(err as Error).message})`);
  }
  if (json.format !== SRNET_FORMAT) throw new Error(`${dir}/model.json: format must be '${SRNET_FORMAT}', got '${String(json.format)}'`);
  checkSrConfig(json.config);
  return json;
}

export function loadSrModel(tf: typeof TF, dir: string): { net: SrNet; json: SrModelJson } {
  const json = readSrModelJson(dir);
  let bin: Buffer;
  try {
    bin = readFileSync(join(dir, 'weights.bin'));
  } catch (err) {
    throw new Error(`${dir}: cannot read weights.bin (${(err as Error).message})`);
  }
  const specs = json.weightsManifest[0].weights;
  const total = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  if (bin.byteLength !== total * 4) throw new Error(`${dir}/weights.bin: ${bin.byteLength} bytes, the manifest needs ${total * 4}`);
  const data = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  let off = 0;
  const weights: NamedWeight[] = specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const w = { name: s.name, shape: s.shape, data: data.subarray(off, off + n) };
    off += n;
    return w;
  });
  return { net: SrNet.fromWeights(tf, json.config, weights), json };
}

/** Committed models (name → dir) found under `root`. */
export function listModels(root = modelRoot()): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(root)) return out;
  for (const name of readdirSync(root).sort()) if (existsSync(join(root, name, 'model.json'))) out.set(name, join(root, name));
  return out;
}

/**
 * The committed model that best matches (factor, components, type?): same
 * factor and components required; the given type preferred, else type 2.
 * Undefined when none matches.
 */
export function bestModel(factor: number, components: 1 | 3, type?: 1 | 2, root = modelRoot()): { name: string; dir: string } | undefined {
  const models = listModels(root);
  for (const t of type ? [type, type === 1 ? 2 : 1] : [2, 1]) {
    const name = modelName(t as 1 | 2, factor, components);
    const dir = models.get(name);
    if (dir) return { name, dir };
  }
  return undefined;
}
