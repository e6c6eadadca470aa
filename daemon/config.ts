/**
 * Loads and validates the daemon's YAML config (config/schema.ts).
 *
 * Validation is strict (ajv, `additionalProperties: false` everywhere, so a
 * misspelled key is an error) and runs in two passes: the top-level sections,
 * then each instrument entry against its driver factory's schema. Every
 * problem is reported as `path: message`, the path written the way the YAML
 * is read: `instruments.piezo0.rangeUm[2]: must be > 0`.
 */
import { readFile, stat } from 'node:fs/promises';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
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
    issues.push(...this.instrumentIssues(isObject(cfg) && isObject(cfg.instruments) ? cfg.instruments : {}));
    if (issues.length) throw new ConfigError(issues, file);
    return cfg;
  }

  /**
   * Validates (and fills defaults into) an `instruments` section alone — what `replay` rebuilds from a recorded
   * or imported session, checked with the same schemas as a live config (a recorded config is input too).
   */
  validateInstruments(raw: unknown, file?: string): Record<string, InstrumentConfig> {
    if (!isObject(raw)) throw new ConfigError(['instruments: must be a mapping of instrument ids to entries'], file);
    const issues = this.instrumentIssues(raw, true);
    if (issues.length) throw new ConfigError(issues, file);
    return raw as Record<string, InstrumentConfig>;
  }

  private instrumentIssues(instruments: Record<string, unknown>, strict = false): string[] {
    const issues: string[] = [];
    for (const [id, entry] of Object.entries(instruments)) {
      if (strict && (!isObject(entry) || typeof entry.kind !== 'string' || typeof entry.impl !== 'string')) {
        issues.push(`${formatPath(['instruments', id])}: must have a string kind and impl`);
        continue;
      }
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
      else for (const issue of factory.check?.(entry as InstrumentConfig) ?? []) issues.push(`${formatPath([...at, ...issue.path])}: ${issue.message}`);
    }
    return issues;
  }
}

/** Largest config file read, bytes (a rig config is a few KiB). */
export const MAX_CONFIG_BYTES = 4 * 2 ** 20;
/** Most aliases a config may expand (yaml's own guard against "billion laughs" alias bombs). */
export const MAX_CONFIG_ALIASES = 100;

/**
 * Parses YAML text; syntax errors, duplicate keys and alias bombs become ConfigError with line and column.
 * Duplicate keys are found in one pass with a set per mapping (yaml's own `uniqueKeys` compares every pair:
 * quadratic, minutes for a hostile file of a million keys).
 */
export function parseConfigText(text: string, file?: string): unknown {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError([`${text.length} characters exceeds the limit of ${MAX_CONFIG_BYTES}`], file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${e.message.split('\n')[0]}`;
      }),
      file,
    );
  }
  const dup = firstDuplicateKey(doc.contents);
  if (dup) {
    const pos = dup.offset !== undefined ? lineCounter.linePos(dup.offset) : undefined;
    throw new ConfigError([`${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}Map keys must be unique (duplicate key '${dup.key.slice(0, 80)}')`], file);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_CONFIG_ALIASES }) ?? {};
  } catch (err) {
    throw new ConfigError([`cannot be expanded: ${/alias/i.test((err as Error).message) ? `more than ${MAX_CONFIG_ALIASES} alias expansions (an alias bomb?)` : (err as Error).message}`], file);
  }
}

/** The first repeated key of any mapping of the document, found iteratively in linear time. */
function firstDuplicateKey(root: unknown): { key: string; offset?: number } | undefined {
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const k = pair.key;
        const id = isScalar(k) ? `${typeof k.value}:${String(k.value)}` : undefined;
        if (id !== undefined) {
          if (seen.has(id)) return { key: String((k as { value: unknown }).value), ...((k as { range?: [number] }).range ? { offset: (k as { range: [number] }).range[0] } : {}) };
          seen.add(id);
        }
        stack.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) stack.push(...node.items);
  }
  return undefined;
}

/** Reads, parses and validates a config file. */
export async function loadConfig(file: string, registry: DriverRegistry = createDefaultRegistry()): Promise<QscopeConfig> {
  let text: string;
  const unreadable = (err: unknown) => new ConfigError([`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], file);
  const st = await stat(file).catch((err: unknown) => {
    throw unreadable(err);
  });
  if (!st.isFile()) throw new ConfigError(['cannot read: not a regular file'], file);
  if (st.size > MAX_CONFIG_BYTES) throw new ConfigError([`${st.size} bytes exceeds the limit of ${MAX_CONFIG_BYTES}`], file);
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw unreadable(err);
  }
  return new ConfigValidator(registry).validate(parseConfigText(text, file), file);
}

/**
 * What the daemon checks at start beyond the schema, in one place so that `qscope config check` and
 * `qscope daemon` accept exactly the same configs: the API endpoints (after command-line overrides) and, when
 * any is not loopback or CURVE is configured, the CURVE section — keys readable, secret-key file not accessible
 * by group or others, allow-list not empty. Throws ConfigError; returns the `api` section as the daemon uses it.
 */
export async function checkDaemonConfig(cfg: QscopeConfig, overrides: { control?: string; data?: string } = {}, file?: string): Promise<Record<string, unknown>> {
  const api: Record<string, unknown> = { ...((cfg.api as Record<string, unknown> | undefined) ?? {}) };
  if (overrides.control !== undefined) api.control = overrides.control;
  if (overrides.data !== undefined) api.data = overrides.data;
  const { checkApiSecurity } = await import('./api/security.js');
  try {
    checkApiSecurity(api);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError([e.code && e.path ? `api.curve: ${e.path}: cannot read (${e.code})` : e.message], file);
  }
  return api;
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
