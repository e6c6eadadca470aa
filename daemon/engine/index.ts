export { Engine, type EngineOptions, type EngineLogger } from './engine.js';
export { EngineError, SessionAbortedError, RecordingExhaustedError, isRecordingExhausted, type EngineErrorCode } from './errors.js';
export type { RecordedDecision, ReplayHooks } from './session.js';
export * from './api.js';
