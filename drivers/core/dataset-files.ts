/**
 * Files named by a dataset folder's manifest (decision 1101). A dataset handed to `import` or `reconstruct`
 * is hostile until checked: every name it gives is resolved inside the folder (relative, no `..` out, no
 * symlink leading out), must be a regular file (never a device, FIFO or socket, which could hang or feed
 * the reader forever), and is size-checked before it is read. Errors name the file and the problem and
 * never quote its contents.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { readNpy, type NpyArray } from './npy.js';

/** Largest JSON file of a dataset (manifest, per-stream headers, events). */
export const MAX_DATASET_JSON_BYTES = 256 * 2 ** 20;

export class DatasetFileError extends Error {
  override readonly name = 'DatasetFileError';
  readonly code = 'BAD_DATASET';
}

/**
 * The real path of `name` inside `dir`, or a DatasetFileError saying why not: not a relative name, reaching
 * outside the folder (by `..` or a symlink), missing, or not a regular file.
 */
export function datasetFile(dir: string, name: unknown, what = 'file'): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024 || name.includes('\0')) {
    throw new DatasetFileError(`${join(dir, 'manifest.json')}: ${what}: must be a non-empty relative file name`);
  }
  if (isAbsolute(name)) throw new DatasetFileError(`${join(dir, 'manifest.json')}: ${what} '${name}': must be relative to the dataset folder`);
  const root = realDir(dir);
  const lexical = resolve(root, name);
  if (!inside(root, lexical)) throw new DatasetFileError(`${join(dir, 'manifest.json')}: ${what} '${name}': reaches outside the dataset folder`);
  let real: string;
  try {
    real = realpathSync(lexical);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'missing' : `cannot read (${code ?? 'error'})`;
    // The file's own name says what it is when no role is given ('file').
    throw new DatasetFileError(`${join(dir, name)}: ${what === 'file' ? '' : `${what}: `}${problem}`);
  }
  if (!inside(root, real)) throw new DatasetFileError(`${join(dir, name)}: ${what}: a symbolic link leading outside the dataset folder`);
  return real;
}

function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch (err) {
    throw new DatasetFileError(`${dir}: dataset folder ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`}`);
  }
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** Reads a regular file of the folder, refusing it when larger than `maxBytes` (checked before reading). */
export function readDatasetBytes(dir: string, name: unknown, what = 'file', maxBytes = MAX_DATASET_JSON_BYTES): Buffer {
  const path = datasetFile(dir, name, what);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new DatasetFileError(`${join(dir, String(name))}: ${what}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DatasetFileError(`${join(dir, String(name))}: ${what}: not a regular file (a device, FIFO, socket or folder is never read)`);
    if (st.size > maxBytes) throw new DatasetFileError(`${join(dir, String(name))}: ${what}: ${st.size} bytes exceeds the limit of ${maxBytes} bytes`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const k = readSync(fd, buf, got, buf.length - got, got);
      if (k === 0) break;
      got += k;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Parses a JSON file of the folder; a syntax error says where, never what the file holds. */
export function readDatasetJson(dir: string, name: unknown, what = 'file', maxBytes = MAX_DATASET_JSON_BYTES): unknown {
  const text = readDatasetBytes(dir, name, what, maxBytes).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message);
    throw new DatasetFileError(`${join(dir, String(name))}: ${what === 'file' ? '' : `${what}: `}invalid JSON${at ? ` (syntax error at byte ${at[1]})` : ''}`);
  }
}

/** Reads a `.npy` of the folder (npy.ts checks regular file and sizes before reading). */
export function readDatasetNpy(dir: string, name: unknown, what = 'array', maxBytes?: number): NpyArray {
  return readNpy(datasetFile(dir, name, what), maxBytes === undefined ? {} : { maxBytes });
}

/** True when the folder has an entry `name` of any kind (reading it is still checked, and refused if it leads out). */
export function datasetHas(dir: string, name: string): boolean {
  try {
    lstatSync(join(dir, name));
    return true;
  } catch {
    return false;
  }
}
