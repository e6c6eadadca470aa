/**
 * Plan parameter schemas: JSON Schema (draft-07 as ajv reads it) with one
 * extra keyword, `unit`, on every physical quantity. `--param key=value` on
 * the command line and the params of `sessions.start` go through the same
 * validation: types coerced (`"7000"` → 7000), defaults filled, unknown keys
 * refused, and every error reported as `params.<path>: <message>`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** A property schema: ordinary JSON Schema plus `unit` (e.g. `ms`, `nm`, `MHz`, `1`). */
export interface ParamSchema {
  type?: 'number' | 'integer' | 'string' | 'boolean' | 'array' | 'object';
  unit?: string;
  description?: string;
  default?: unknown;
  [keyword: string]: unknown;
}

export interface ParamsSchema {
  type: 'object';
  properties: Record<string, ParamSchema>;
  required?: string[];
  additionalProperties?: false;
  [keyword: string]: unknown;
}

export class ParamsError extends Error {
  override readonly name = 'ParamsError';
  readonly code = 'BAD_PARAMS';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
  ajv.addKeyword({ keyword: 'unit', schemaType: 'string' });
  return ajv;
}

const shared = { ajv: undefined as Ajv | undefined };
function ajv(): Ajv {
  return (shared.ajv ??= newAjv());
}

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest of `known` to `name` when it is close enough to be a typo (or contains/is contained), else undefined. */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(name, k);
    if (!best || d < best.d) best = { k, d };
  }
  if (!best) return undefined;
  const close = best.d <= Math.max(2, Math.floor(best.k.length / 3));
  const part = known.find((k) => name.length >= 3 && (k.toLowerCase().includes(name.toLowerCase()) || name.toLowerCase().includes(k.toLowerCase())));
  return close ? best.k : part;
}

/** `(did you mean 'x'?; known: a, b, c)` for an unknown `name` among `known`. */
export function suggestion(name: string, known: readonly string[], what: string): string {
  const guess = didYouMean(name, known);
  return `(${guess ? `did you mean '${guess}'? ` : ''}${what}: ${known.join(', ') || 'none'})`;
}

/**
 * One ajv error as `path: message`, path rooted at `root` (`params.pixels[2]`); also used for instrument
 * command params. `known`: the valid parameter names, for a did-you-mean on an unknown one.
 */
export function describeAjvError(e: ErrorObject, root: string, known?: readonly string[]): string {
  const path = root + e.instancePath.replace(/\//g, '.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = (e.params as { additionalProperty: string }).additionalProperty;
      return `${path}: unknown parameter '${name}'${known && e.instancePath === '' ? ` ${suggestion(name, known, 'parameters')}` : ''}`;
    }
    case 'required':
      return `${path}: missing required parameter '${(e.params as { missingProperty: string }).missingProperty}'`;
    default:
      return `${path}: ${e.message ?? 'invalid'}`;
  }
}

/** A compiled validator for one plan's params. */
export class ParamsValidator<P = Record<string, unknown>> {
  private readonly validateFn: ValidateFunction;
  constructor(readonly schema: ParamsSchema) {
    checkSchema(schema);
    // Plans are compiled once per process (registry), so sharing one ajv keeps schemas cached.
    this.validateFn = ajv().compile({ additionalProperties: false, ...schema });
  }

  /** Validates and coerces a copy of `input` (defaults filled in). Throws ParamsError listing every problem. */
  validate(input: unknown): P {
    const copy = structuredClone(input ?? {});
    if (!this.validateFn(copy)) throw new ParamsError((this.validateFn.errors ?? []).map((e) => describeAjvError(e, 'params', Object.keys(this.schema.properties))));
    return copy as P;
  }
}

/** Plan authors' check: every numeric parameter must say its unit. */
function checkSchema(schema: ParamsSchema): void {
  if (schema?.type !== 'object' || typeof schema.properties !== 'object') throw new TypeError('params schema: must be {type: "object", properties: {...}}');
  for (const [k, p] of Object.entries(schema.properties)) {
    if ((p.type === 'number' || p.type === 'integer') && typeof p.unit !== 'string') throw new TypeError(`params schema: property '${k}' is numeric but has no 'unit' (use '1' for dimensionless)`);
  }
}

/**
 * Parses `--param key=value` pairs into an object: dotted keys nest
 * (`mask.fraction=0.1`), a value starting with `[`, `{` or `"` is JSON, any
 * other value stays a string for the schema to coerce.
 */
export function parseParamArgs(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ParamsError([`--param ${pair}: expected key=value`]);
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    if (/^\s*[[{"]/.test(raw)) {
      try {
        value = JSON.parse(raw);
      } catch (err) {
        throw new ParamsError([`--param ${key}: invalid JSON (${(err as Error).message})`]);
      }
    }
    const parts = key.split('.');
    // A key segment is a name, never a route into an object's prototype (`__proto__.x=1` would reach every object).
    const bad = parts.find((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype' || !/^[A-Za-z0-9_-]{1,64}$/.test(p));
    if (bad !== undefined) throw new ParamsError([`--param ${key.slice(0, 80)}: '${bad.slice(0, 40)}' is not a parameter name (letters, digits, '_', '-'; not __proto__, constructor, prototype)`]);
    let obj = out;
    for (const p of parts.slice(0, -1)) {
      if (!Object.hasOwn(obj, p)) obj[p] = {};
      if (typeof obj[p] !== 'object' || obj[p] === null) throw new ParamsError([`--param ${key}: '${p}' is already a value`]);
      obj = obj[p] as Record<string, unknown>;
    }
    obj[parts[parts.length - 1]!] = value;
  }
  return out;
}

/** A human/API description of one parameter (for `plans.describe`). */
export interface ParamDescription {
  name: string;
  type: string;
  unit?: string;
  default?: unknown;
  required: boolean;
  description?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
}

export function describeParams(schema: ParamsSchema): ParamDescription[] {
  const req = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, p]) => ({
    name,
    type: String(p.type ?? 'any'),
    ...(p.unit !== undefined ? { unit: p.unit } : {}),
    ...(p.default !== undefined ? { default: p.default } : {}),
    required: req.has(name),
    ...(p.description !== undefined ? { description: p.description } : {}),
    ...(typeof p.minimum === 'number' ? { minimum: p.minimum } : {}),
    ...(typeof p.maximum === 'number' ? { maximum: p.maximum } : {}),
    ...(Array.isArray(p.enum) ? { enum: p.enum } : {}),
  }));
}
