/**
 * Typed engine errors. `code` is stable and what the ZeroMQ API reports as
 * `{error: {code, message}}`.
 */
export type EngineErrorCode =
  | 'INSTRUMENT_OWNED' // a mutating call to an instrument a running session owns
  | 'UNKNOWN_INSTRUMENT'
  | 'UNKNOWN_COMMAND'
  | 'UNKNOWN_PLAN'
  | 'UNKNOWN_SESSION'
  | 'UNKNOWN_STREAM' // frames() of a stream the (existing) session does not have
  | 'BAD_PARAMS'
  | 'SESSION_RUNNING' // start while another session runs on this rig
  | 'NO_SESSION' // pause/resume/abort with no running session
  | 'BAD_STATE' // e.g. resume of a session that is not paused
  | 'BINDING' // plan roles cannot be bound to instruments
  | 'DISK_SPACE'
  | 'MODEL_FILE' // a model the plan declares cannot be read (missing or broken install)
  | 'SESSION_FILE'; // a session file that is missing, corrupt or foreign

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown into a plan's pending step when its session is aborted. */
export class SessionAbortedError extends Error {
  override readonly name = 'SessionAbortedError';
  constructor(reason = 'aborted by request') {
    super(reason);
  }
}

export { RecordingExhaustedError, isRecordingExhausted } from '../../drivers/replay/errors.js';
