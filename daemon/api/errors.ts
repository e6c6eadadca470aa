/**
 * Errors of the control API: every failure becomes `{code, message, data?}`
 * with a documented numeric code (protocol.ts, docs/PROTOCOL.md).
 */
import { DriverError } from '../../drivers/core/errors.js';
import { ErrorCode, type RpcError } from './protocol.js';

/** An error that maps to one control-reply error code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

const BY_NAME = new Map<string, number>([
  ...Object.entries(ErrorCode),
  // The engine's EngineError codes (daemon/engine/errors.ts) that differ from ours.
  ['BAD_PARAMS', ErrorCode.INVALID_PARAMS],
  ['NO_SESSION', ErrorCode.NO_RUNNING_SESSION],
  ['BAD_STATE', ErrorCode.INVALID_SESSION_STATE],
  ['BINDING', ErrorCode.PLAN_BINDING],
  ['DISK_SPACE', ErrorCode.STORAGE_ERROR],
  ['SESSION_FILE', ErrorCode.STORAGE_ERROR],
  ['SESSIONS_DIR', ErrorCode.STORAGE_ERROR],
  ['MODEL_FILE', ErrorCode.STORAGE_ERROR],
]);

/** `params.a: msg; params.b: msg` → [{path, message}] when every piece has that shape. */
function errorsFromMessage(message: string): Array<{ path: string; message: string }> | undefined {
  const out = message.split('; ').map((piece) => /^(params[\w.[\]]*): (.+)$/.exec(piece));
  if (!out.every((m) => m)) return undefined;
  return out.map((m) => ({ path: m![1]!, message: m![2]! }));
}

/**
 * Turns anything thrown by a handler into a reply error. Errors carrying a
 * string `code` that names an ErrorCode keep it (that is the contract with
 * the engine); driver faults become INSTRUMENT_ERROR; the rest is internal.
 */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof ApiError) return withData({ code: err.rpcCode, message: err.message }, err.data);
  if (err instanceof DriverError) {
    return { code: ErrorCode.INSTRUMENT_ERROR, message: err.message, data: { driverCode: err.code, driverId: err.driverId } };
  }
  const e = err as { code?: unknown; message?: unknown; data?: unknown; errors?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (typeof e?.code === 'string' && BY_NAME.has(e.code)) {
    const code = BY_NAME.get(e.code)!;
    let data = e.data ?? (Array.isArray(e.errors) ? { errors: e.errors } : undefined);
    if (data === undefined && code === ErrorCode.INVALID_PARAMS) {
      const errors = errorsFromMessage(message);
      if (errors) data = { errors };
    }
    return withData({ code, message }, data);
  }
  return { code: ErrorCode.INTERNAL_ERROR, message: `internal error: ${message}` };
}

function withData(error: RpcError, data: unknown): RpcError {
  if (data === undefined) return error;
  try {
    // Only JSON-serialisable data goes on the wire.
    return { ...error, data: JSON.parse(JSON.stringify(data)) };
  } catch {
    return error;
  }
}
