/**
 * Loads and validates the daemon's YAML config (config/schema.ts).
 *
 * Validation is strict (ajv, `additionalProperties: false` everywhere, so a
 * misspelled key is an error) and runs in two passes: the top-level sections,
 * then each instrument entry against its driver factory's schema. Every
 * problem is reported as `path: message`, the path written the way the YAML
 * is read: `instruments.piezo0.rangeUm[2]: must be > 0`.
 */
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import type { ClockKind } from '../drivers/core/clock.js';
import type { DriverRegistry, InstrumentConfig } from '../drivers/core/registry.js';
import { createDefaultRegistry } from '../drivers/index.js';
import { topLevelSchema } from '../config/schema.js';

export interface RigConfig {
  name?: string;
  /** Seed of the simulated world. */
  seed: number;
  clock: ClockKind;
  /** Experiment seconds per wall second, for the scaled clock. */
  speed: number;
}

export interface DemoConfig {
  enabled: boolean;
  plan: string;
  params: Record<string, unknown>;
  speed?: number;
}

export interface QscopeConfig {
  rig: RigConfig;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  instruments: Record<string, InstrumentConfig>;
  scene: Record<string, unknown>;
  demo?: DemoConfig;
  /** Sections owned by other services (sessions, api, ...), validated by their schema entries. */
  [section: string]: unknown;
}

/** An invalid config: every problem as `path: message`, in document order where possible. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: string[],
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}invalid config:\n  ${issues.join('\n  ')}`);
  }
}

/** The ajv instance for config (and for anyone validating against the same rules). */
export function createConfigAjv(): Ajv {
  const ajv = new Ajv({ strict: true, allErrors: true, useDefaults: true, verbose: true });
  // `unit` annotates numbers with their unit; it validates nothing.
  ajv.addKeyword({ keyword: 'unit', schemaType: 'string' });
  return ajv;
}

/**
 * Validates (and fills defaults into) a parsed config. Throws ConfigError
 * listing every problem; returns the typed config otherwise.
 */
export class ConfigValidator {
  private readonly ajv = createConfigAjv();
  private readonly top: ValidateFunction;
  private readonly perImpl = new Map<string, ValidateFunction>();

  constructor(private readonly registry: DriverRegistry) {
    this.top = this.ajv.compile(topLevelSchema());
  }

  validate(raw: unknown, file?: string): QscopeConfig {
    const issues: string[] = this.top(raw) ? [] : formatAjvErrors(this.top.errors ?? []);
    const cfg = raw as QscopeConfig;
    // The instruments are checked even when the top level failed, so one run reports everything.
    const instruments = isObject(cfg) && isObject(cfg.instruments) ? cfg.instruments : {};
    for (const [id, entry] of Object.entries(instruments)) {
      if (!isObject(entry) || typeof entry.kind !== 'string' || typeof entry.impl !== 'string') continue;
      const at = ['instruments', id];
      const kinds = [...new Set(this.registry.list().map((f) => f.kind))].sort();
      if (!kinds.includes(entry.kind)) {
        issues.push(`${formatPath([...at, 'kind'])}: unknown instrument kind '${entry.kind}' (known: ${kinds.join(', ') || 'none'})`);
        continue;
      }
      const factory = this.registry.get(entry.kind, entry.impl);
      if (!factory) {
        const impls = this.registry.list().filter((f) => f.kind === entry.kind).map((f) => f.impl);
        issues.push(`${formatPath([...at, 'impl'])}: no '${entry.impl}' implementation of ${entry.kind} (known: ${impls.join(', ')})`);
        continue;
      }
      const key = `${factory.kind}/${factory.impl}`;
      let check = this.perImpl.get(key);
      if (!check) {
        check = this.ajv.compile(factory.schema);
        this.perImpl.set(key, check);
      }
      if (!check(entry)) issues.push(...formatAjvErrors(check.errors ?? [], at));
      else for (const issue of factory.check?.(entry) ?? []) issues.push(`${formatPath([...at, ...issue.path])}: ${issue.message}`);
    }
    if (issues.length) throw new ConfigError(issues, file);
    return cfg;
  }
}

/** Parses YAML text; syntax errors and duplicate keys become ConfigError with line and column. */
export function parseConfigText(text: string, file?: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${e.message.split('\n')[0]}`;
      }),
      file,
    );
  }
  return doc.toJS() ?? {};
}

/** Reads, parses and validates a config file. */
export async function loadConfig(file: string, registry: DriverRegistry = createDefaultRegistry()): Promise<QscopeConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], file);
  }
  return new ConfigValidator(registry).validate(parseConfigText(text, file), file);
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------- errors

/** `['instruments', 'piezo0', 'rangeUm', 2]` -> `instruments.piezo0.rangeUm[2]`. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number' || /^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out || '(top level)';
}

function pointerSegments(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Turns ajv errors into `path: message` lines (deduplicated, with "did you mean" for misspelled keys). */
export function formatAjvErrors(errors: readonly ErrorObject[], prefix: readonly (string | number)[] = []): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const at = [...prefix, ...pointerSegments(e.instancePath)];
    let line: string;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        const guess = closest(key, known);
        line = `${formatPath([...at, key])}: unknown key${guess ? ` (did you mean '${guess}'?)` : known.length ? ` (allowed: ${known.join(', ')})` : ''}`;
        break;
      }
      case 'required':
        line = `${formatPath([...at, (e.params as { missingProperty: string }).missingProperty])}: is required`;
        break;
      case 'enum':
        line = `${formatPath(at)}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'propertyNames':
        line = `${formatPath([...at, (e.params as { propertyName: string }).propertyName])}: invalid name`;
        break;
      default:
        // Errors inside propertyNames carry the name being checked; their parent error already says it.
        if (e.propertyName !== undefined) continue;
        line = `${formatPath(at)}: ${e.message ?? e.keyword}`;
    }
    if (!out.includes(line)) out.push(line);
  }
  return out;
}

/** The known key closest to a misspelled one, if it is plausibly a typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
