/**
 * The wire protocol shared by the daemon's API server and the qscope client
 * (docs/PROTOCOL.md is the prose version, for clients in other languages).
 *
 * Control: JSON `{id, method, params}` → `{id, result}` | `{id, error}`.
 * Data: multipart `[topic, header JSON, payload bytes]`, topic
 * `session/<id>/<stream>`; session status snapshots go out on
 * `session/<id>/@status` with an empty payload.
 */

/** Error codes of control replies, in the JSON-RPC 2.0 style (negative integers; -32000…-32099 are ours). */
export const ErrorCode = {
  /** The body is not valid UTF-8 JSON. */
  PARSE_ERROR: -32700,
  /** Valid JSON but not a request object (`id`, `method`, `params` missing or of the wrong type), or wrong frame count. */
  INVALID_REQUEST: -32600,
  /** No method of that name. */
  METHOD_NOT_FOUND: -32601,
  /** `params` does not match the method's schema (or the plan's parameter schema); `data.errors` lists `{path, message}`. */
  INVALID_PARAMS: -32602,
  /** A bug or an unexpected failure inside the daemon; the daemon keeps serving. */
  INTERNAL_ERROR: -32603,
  /** The request is larger than the control socket's request limit (`data.limitBytes`). */
  REQUEST_TOO_LARGE: -32001,
  /** Too many requests in flight; retry later (`data.limit`). */
  SERVER_BUSY: -32002,
  /** The daemon is shutting down and accepts no new requests. */
  SHUTTING_DOWN: -32003,
  /** No instrument with that id. */
  UNKNOWN_INSTRUMENT: -32010,
  /** The instrument has no remotely callable command of that name. */
  UNKNOWN_COMMAND: -32011,
  /** The instrument belongs to the running session; direct calls are refused (`data.session`). */
  INSTRUMENT_OWNED: -32012,
  /** The driver raised a typed fault (`data.driverCode`: DISCONNECTED, NOT_CONNECTED, TIMEOUT, GARBAGE, OUT_OF_RANGE, BUSY, ABORTED, CONFIG). */
  INSTRUMENT_ERROR: -32013,
  /** No plan of that name (or no pipeline of the name the plan asks for). */
  UNKNOWN_PLAN: -32020,
  /** The plan's instrument roles cannot be bound to the rig's instruments. */
  PLAN_BINDING: -32021,
  /** No session with that id. */
  UNKNOWN_SESSION: -32030,
  /** The method acts on the running session and none is running. */
  NO_RUNNING_SESSION: -32031,
  /** A session is already running (one per rig; `data.session`). */
  SESSION_RUNNING: -32032,
  /** The session's state does not allow this (e.g. resume a session that is not paused; `data.state`). */
  INVALID_SESSION_STATE: -32033,
  /** The recording has no such stream in this session. */
  UNKNOWN_STREAM: -32034,
  /** The session store failed (disk full, unreadable or foreign session file). */
  STORAGE_ERROR: -32040,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Request/response ids: what the client sent, echoed back (null when the request could not be read). */
export type RequestId = string | number | null;

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

export interface RpcRequest {
  id: Exclude<RequestId, null>;
  method: string;
  params?: Record<string, unknown>;
}

export type RpcResponse = { id: RequestId; result: unknown } | { id: RequestId; error: RpcError };

/** Default bind addresses (loopback). */
export const DEFAULT_CONTROL = 'tcp://127.0.0.1:5555';
export const DEFAULT_DATA = 'tcp://127.0.0.1:5556';

/** The pseudo-stream carrying session status snapshots on the data socket. */
export const STATUS_STREAM = '@status';

export function dataTopic(session: string, stream: string): string {
  return `session/${session}/${stream}`;
}

/** Splits `session/<id>/<stream>`; undefined for anything else. Session ids contain no '/'. */
export function parseTopic(topic: string): { session: string; stream: string } | undefined {
  if (!topic.startsWith('session/')) return undefined;
  const rest = topic.slice('session/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { session: rest.slice(0, slash), stream: rest.slice(slash + 1) };
}
