export { SessionStore, newSessionId, type NewSession, type SessionSummary, type StoreOptions } from './store.js';
export { SessionWriter, DEFAULT_LIMITS, freeBytes, type WriterLimits, type CommitInfo, type SessionEnd } from './writer.js';
export { SessionReader, type SessionRow, type StreamRow, type EventRow, type FrameTable } from './reader.js';
export { SessionFileError, DEFAULT_DURABILITY, type Durability, type DurabilityOptions } from './db.js';
export { WriterLock } from './lock.js';
