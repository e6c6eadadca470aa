/**
 * ajv for the API: one instance, errors as `{path, message}` with paths like
 * `params.toSeq` (STYLE: `path: message`).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export interface FieldError {
  path: string;
  message: string;
}

/** `coerceTypes` for plan params given as `--param k=v` strings (as the engine's plans do); the wire API itself does not coerce. */
export function createAjv(opts: { coerceTypes?: boolean } = {}): Ajv {
  // strict:false so plan and command schemas may carry annotation keywords such as `unit`.
  return new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: opts.coerceTypes ?? false });
}

/** ajv errors → `{path, message}`, path rooted at `root` (e.g. `params`). */
export function fieldErrors(errors: ErrorObject[] | null | undefined, root: string): FieldError[] {
  return (errors ?? []).map((e) => {
    let path = root + e.instancePath.split('/').slice(1).map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`)).join('');
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      path += `.${(e.params as { missingProperty: string }).missingProperty}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      path += `.${(e.params as { additionalProperty: string }).additionalProperty}`;
      message = 'is not allowed';
    } else if (e.keyword === 'enum') {
      message += `: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    return { path, message };
  });
}

/** `a: x; b: y` for error messages. */
export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}

export type { ValidateFunction };
