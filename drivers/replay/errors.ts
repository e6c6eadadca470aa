/** The replay source has no more recorded measurements: the recording ended here. */
export class RecordingExhaustedError extends Error {
  override readonly name = 'RecordingExhaustedError';
  readonly code = 'RECORDING_EXHAUSTED';
  constructor(stream: string) {
    super(`recording has no further measurement on ${stream}`);
  }
}

/** True when `err` (or any error in its `cause` chain) is a RecordingExhaustedError. */
export function isRecordingExhausted(err: unknown): boolean {
  for (let e = err, i = 0; e && i < 8; e = (e as { cause?: unknown }).cause, i++) if (e instanceof RecordingExhaustedError) return true;
  return false;
}
