/**
 * The control methods: each has a JSON Schema for its params (checked before
 * the handler runs) and a handler over a ControlTarget. A handler returns the
 * `result` and, for `sessions.frames`, the payloads as extra message parts.
 */
import type { Frame } from '../../drivers/core/frame.js';
import { SESSION_ID_PATTERN } from '../store/session-id.js';
import { ApiError } from './errors.js';
import { ErrorCode } from './protocol.js';
import type { ControlTarget, SessionMeta } from './target.js';
import { createAjv, describeErrors, fieldErrors, type ValidateFunction } from './validation.js';

export interface MethodOutcome {
  result: unknown;
  /** `JSON.stringify(result)` when the handler has it already; the dispatcher then sends it as is. */
  resultJson?: string;
  /** Extra binary parts sent after the JSON reply, in order. */
  parts?: Uint8Array[];
}

export interface MethodContext {
  target: ControlTarget;
  /** Upper bound on payload bytes in one reply (sessions.frames). */
  maxReplyBytes: number;
  /** Runs a sessions.frames read when one of the few read slots is free: at most that many replies' worth of frames are in memory at once, however many requests are pipelined. */
  framesSlot<T>(read: () => Promise<T>): Promise<T>;
  /** Validates instruments.call params against the command's own schema (cached). */
  validateCommand(instrument: string, command: string, schema: Record<string, unknown>, params: unknown): Record<string, unknown>;
}

interface MethodDef {
  description: string;
  params: Record<string, unknown>;
  handle(ctx: MethodContext, params: Record<string, unknown>): Promise<MethodOutcome>;
}

const NO_PARAMS = { type: 'object', additionalProperties: false, properties: {} };
/** A session id of the form the daemon issues: a name inside the sessions folder, never a path (decision 1100). */
const SESSION_ID_STRING = { type: 'string', minLength: 1, maxLength: 128, pattern: SESSION_ID_PATTERN };
const SESSION_ID = { type: 'object', additionalProperties: false, properties: { id: SESSION_ID_STRING } };
const ID_STRING = { type: 'string', minLength: 1, maxLength: 256 };

/** Largest number of frames one `sessions.frames` reply carries. */
export const MAX_FRAMES_PER_REPLY = 10_000;

const r = async (value: unknown): Promise<MethodOutcome> => ({ result: await value });

export const METHODS: Record<string, MethodDef> = {
  'daemon.status': {
    description: 'Daemon version, running session, instrument states.',
    params: NO_PARAMS,
    handle: (c) => r(c.target.status()),
  },
  'instruments.list': {
    description: 'Every instrument with its channels, commands and state.',
    params: NO_PARAMS,
    handle: (c) => r(c.target.listInstruments()),
  },
  'instruments.describe': {
    description: 'One instrument.',
    params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: ID_STRING } },
    handle: (c, p) => r(c.target.describeInstrument(p.id as string)),
  },
  'instruments.call': {
    description: "Calls a declared command of an instrument (refused while a running session owns it).",
    params: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'command'],
      properties: { id: ID_STRING, command: ID_STRING, params: { type: 'object' } },
    },
    async handle(c, p) {
      const id = p.id as string;
      const command = p.command as string;
      const desc = await c.target.describeInstrument(id);
      // Own properties only: `constructor`, `__proto__`, `toString` are not commands.
      const spec = Object.hasOwn(desc.commands, command) ? desc.commands[command] : undefined;
      if (!spec) {
        throw new ApiError(ErrorCode.UNKNOWN_COMMAND, `instrument '${id}' has no command '${command}'`, {
          commands: Object.keys(desc.commands),
        });
      }
      const args = c.validateCommand(id, command, spec.params, p.params ?? {});
      return { result: (await c.target.callInstrument(id, command, args)) ?? null };
    },
  },
  'plans.list': {
    description: 'Every registered plan.',
    params: NO_PARAMS,
    handle: (c) => r(c.target.listPlans()),
  },
  'plans.describe': {
    description: "A plan with its parameter schema (types, units, defaults, ranges).",
    params: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: ID_STRING } },
    handle: (c, p) => r(c.target.describePlan(p.name as string)),
  },
  'sessions.start': {
    description: "Starts a session of a plan; params are validated and coerced by the plan's schema.",
    params: {
      type: 'object',
      additionalProperties: false,
      required: ['plan'],
      properties: {
        plan: ID_STRING,
        params: { type: 'object' },
        onFault: { enum: ['fail', 'suspend'], description: "What an instrument fault does: end the session as failed, or suspend it until sessions.resume / sessions.abort (default: the plan's onFault)." },
        meta: {
          type: 'object',
          additionalProperties: false,
          properties: { sample: { type: 'string' }, operator: { type: 'string' }, notes: { type: 'string' } },
        },
      },
    },
    handle: (c, p) =>
      r(c.target.startSession(p.plan as string, (p.params as Record<string, unknown>) ?? {}, p.meta as SessionMeta | undefined, p.onFault ? { onFault: p.onFault as 'fail' | 'suspend' } : undefined)),
  },
  'sessions.pause': { description: 'Pauses the given or the running session.', params: SESSION_ID, handle: (c, p) => r(c.target.pauseSession(p.id as string | undefined)) },
  'sessions.resume': { description: 'Resumes the given or the running session.', params: SESSION_ID, handle: (c, p) => r(c.target.resumeSession(p.id as string | undefined)) },
  'sessions.abort': { description: 'Aborts the given or the running session.', params: SESSION_ID, handle: (c, p) => r(c.target.abortSession(p.id as string | undefined)) },
  'sessions.status': { description: 'Status of the given or the running session.', params: SESSION_ID, handle: (c, p) => r(c.target.sessionStatus(p.id as string | undefined)) },
  'sessions.list': { description: 'Every recorded session, oldest first.', params: NO_PARAMS, handle: (c) => r(c.target.listSessions()) },
  'sessions.streams': {
    description: 'The recorded streams of the given or the running session: name, kind, dtype, shape, count (seqs 0 … count − 1).',
    params: SESSION_ID,
    async handle(c, p) {
      const id = (p.id as string | undefined) ?? (await c.target.sessionStatus(undefined)).id;
      return { result: await c.target.sessionStreams(id) };
    },
  },
  'sessions.frames': {
    description: 'Recorded frames of one stream, fromSeq..toSeq inclusive; payloads follow as extra parts.',
    params: {
      type: 'object',
      additionalProperties: false,
      required: ['stream', 'fromSeq', 'toSeq'],
      properties: {
        id: SESSION_ID_STRING,
        stream: ID_STRING,
        fromSeq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        toSeq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        limit: { type: 'integer', minimum: 1, maximum: MAX_FRAMES_PER_REPLY },
      },
    },
    async handle(c, p) {
      const fromSeq = p.fromSeq as number;
      const toSeq = p.toSeq as number;
      if (toSeq < fromSeq) {
        const errors = [{ path: 'params.toSeq', message: `must be >= fromSeq (${fromSeq})` }];
        throw new ApiError(ErrorCode.INVALID_PARAMS, `invalid params: ${describeErrors(errors)}`, { errors });
      }
      const id = (p.id as string | undefined) ?? (await c.target.sessionStatus(undefined)).id;
      const limit = (p.limit as number | undefined) ?? 1000;
      const got = await c.framesSlot(async () => c.target.sessionFrames(id, p.stream as string, fromSeq, toSeq, limit, c.maxReplyBytes));
      const frames: Frame[] = Array.isArray(got) ? got : got.frames;
      const headers: Frame['header'][] = [];
      const parts: Uint8Array[] = [];
      let bytes = 0;
      for (const f of frames) {
        if (headers.length >= limit || (headers.length > 0 && bytes + f.payload.byteLength > c.maxReplyBytes)) break;
        headers.push(f.header);
        parts.push(new Uint8Array(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength));
        bytes += f.payload.byteLength;
      }
      const last = headers.length ? headers[headers.length - 1]!.seq : fromSeq - 1;
      // nextSeq: where to continue when the reply was cut by `limit` or the byte cap (ask again from there).
      let nextSeq: number | null;
      if (!Array.isArray(got) && headers.length === frames.length) nextSeq = got.nextSeq;
      else {
        const cut = headers.length < frames.length || headers.length >= limit;
        nextSeq = cut && last < toSeq ? last + 1 : null;
      }
      const result = { session: id, stream: p.stream, frames: headers, nextSeq };
      // The headers' JSON, built by the reader a chunk at a time, when it holds exactly these headers.
      const pre = !Array.isArray(got) && headers.length === frames.length ? got.headersJson : undefined;
      if (pre === undefined) return { result, parts };
      const resultJson = `{"session":${JSON.stringify(id)},"stream":${JSON.stringify(p.stream)},"frames":${pre},"nextSeq":${JSON.stringify(nextSeq)}}`;
      return { result, resultJson, parts };
    },
  },
};

/** Compiles every method's params schema once. */
export function compileMethodSchemas(ajv = createAjv()): Map<string, ValidateFunction> {
  const out = new Map<string, ValidateFunction>();
  for (const [name, def] of Object.entries(METHODS)) out.set(name, ajv.compile(def.params));
  return out;
}

/** Validates params with a compiled schema; throws INVALID_PARAMS with `data.errors`. */
export function checkParams(validate: ValidateFunction, params: unknown, root = 'params'): Record<string, unknown> {
  if (validate(params)) return params as Record<string, unknown>;
  const errors = fieldErrors(validate.errors, root);
  throw new ApiError(ErrorCode.INVALID_PARAMS, `invalid params: ${describeErrors(errors)}`, { errors });
}
