/**
 * Turns one request body into one reply: parse, check the request shape,
 * validate params against the method's schema, run the handler, map errors.
 * Never throws; socket framing is the control server's business.
 */
import { ApiError, toRpcError } from './errors.js';
import { checkParams, compileMethodSchemas, METHODS, type MethodContext } from './methods.js';
import { ErrorCode, type RequestId, type RpcError } from './protocol.js';
import type { ControlTarget } from './target.js';
import { createAjv, type ValidateFunction } from './validation.js';

export interface Reply {
  /** The JSON reply text. */
  json: string;
  /** Binary parts following it (sessions.frames payloads). */
  parts: Uint8Array[];
  /** The method, when the request named a known one (for logs and stats). */
  method?: string;
  error?: RpcError;
}

export interface DispatcherOptions {
  /** Largest request body accepted (bytes); larger gets REQUEST_TOO_LARGE. */
  maxRequestBytes: number;
  /** Largest sum of payload bytes in one sessions.frames reply. */
  maxReplyBytes: number;
}

const REQUEST_KEYS = new Set(['id', 'method', 'params', 'jsonrpc']);

/** sessions.frames reads running at once (each holds at most maxReplyBytes of frames); the rest wait their turn. */
export const FRAMES_SLOTS = 2;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class Dispatcher {
  private readonly ajv = createAjv();
  private readonly schemas: Map<string, ValidateFunction> = compileMethodSchemas(this.ajv);
  private readonly commandSchemas = new Map<string, { schema: Record<string, unknown>; validate: ValidateFunction }>();
  private readonly ctx: MethodContext;

  constructor(
    target: ControlTarget,
    private readonly opts: DispatcherOptions,
  ) {
    let reading = 0;
    const waiting: Array<() => void> = [];
    this.ctx = {
      target,
      maxReplyBytes: opts.maxReplyBytes,
      framesSlot: async (read) => {
        if (reading >= FRAMES_SLOTS) await new Promise<void>((r) => waiting.push(r));
        else reading++;
        try {
          return await read();
        } finally {
          const next = waiting.shift();
          if (next) next();
          else reading--;
        }
      },
      validateCommand: (instrument, command, schema, params) => {
        const key = `${instrument}\u0000${command}`;
        let entry = this.commandSchemas.get(key);
        if (!entry || entry.schema !== schema) {
          entry = { schema, validate: this.ajv.compile(schema) };
          this.commandSchemas.set(key, entry);
        }
        return checkParams(entry.validate, params, 'params.params');
      },
    };
  }

  /** Method names, sorted. */
  get methods(): string[] {
    return Object.keys(METHODS).sort();
  }

  async dispatch(body: Uint8Array): Promise<Reply> {
    let id: RequestId = null;
    let method: string | undefined;
    try {
      if (body.byteLength > this.opts.maxRequestBytes) {
        throw new ApiError(ErrorCode.REQUEST_TOO_LARGE, `request of ${body.byteLength} bytes exceeds the limit of ${this.opts.maxRequestBytes} bytes`, {
          limitBytes: this.opts.maxRequestBytes,
        });
      }
      let request: unknown;
      try {
        request = JSON.parse(utf8.decode(body));
      } catch (err) {
        throw new ApiError(ErrorCode.PARSE_ERROR, `parse error: ${(err as Error).message}`);
      }
      if (typeof request !== 'object' || request === null || Array.isArray(request)) {
        throw new ApiError(ErrorCode.INVALID_REQUEST, `invalid request: expected a JSON object {id, method, params}, got ${Array.isArray(request) ? 'an array (batches are not supported)' : typeof request === 'object' ? 'null' : typeof request}`);
      }
      const req = request as Record<string, unknown>;
      if (typeof req.id === 'string' ? req.id.length <= 256 : typeof req.id === 'number' && Number.isFinite(req.id)) id = req.id as RequestId;
      else throw new ApiError(ErrorCode.INVALID_REQUEST, `invalid request: id: ${'id' in req ? 'must be a string (≤256 chars) or a finite number' : 'is required'}`);
      const extra = Object.keys(req).filter((k) => !REQUEST_KEYS.has(k));
      if (extra.length) throw new ApiError(ErrorCode.INVALID_REQUEST, `invalid request: ${extra.map((k) => `${k}: is not allowed`).join('; ')}`);
      if (typeof req.method !== 'string') {
        throw new ApiError(ErrorCode.INVALID_REQUEST, `invalid request: method: ${'method' in req ? 'must be a string' : 'is required'}`);
      }
      const validate = this.schemas.get(req.method);
      if (!validate) throw new ApiError(ErrorCode.METHOD_NOT_FOUND, `method not found: '${req.method.slice(0, 100)}'`, { methods: this.methods });
      method = req.method;
      const params = checkParams(validate, req.params ?? {});
      const outcome = await METHODS[method]!.handle(this.ctx, params);
      let json: string;
      try {
        json = outcome.resultJson !== undefined ? `{"id":${JSON.stringify(id)},"result":${outcome.resultJson}}` : JSON.stringify({ id, result: outcome.result ?? null });
      } catch (err) {
        throw new ApiError(ErrorCode.INTERNAL_ERROR, `internal error: result of ${method} is not serialisable: ${(err as Error).message}`);
      }
      return { json, parts: outcome.parts ?? [], method };
    } catch (err) {
      const error = toRpcError(err);
      return { json: JSON.stringify({ id, error }), parts: [], method, error };
    }
  }
}
