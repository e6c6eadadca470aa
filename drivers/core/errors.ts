/**
 * Typed driver faults. Every error a driver raises is a DriverError with a
 * stable `code` and flags a caller can act on (reconnect, give up), in the
 * manner of node-serialport's `disconnected` flag.
 */
export type DriverErrorCode =
  | 'DISCONNECTED' // the instrument went away (cable, power, process)
  | 'NOT_CONNECTED' // a command was sent while not connected; it was not sent
  | 'TIMEOUT' // no (complete) reply in time
  | 'GARBAGE' // a reply that does not parse
  | 'OUT_OF_RANGE' // a requested value outside the instrument's limits; nothing moved
  | 'BUSY' // the instrument is doing something else
  | 'ABORTED' // the operation was cancelled by its caller
  | 'DEVICE' // the instrument refused the command and said why (its own error code)
  | 'CONFIG'; // the driver's configuration is invalid

export class DriverError extends Error {
  override readonly name: string = 'DriverError';
  /** True when the instrument is gone and a reconnect is needed. */
  readonly disconnected: boolean;
  constructor(
    readonly code: DriverErrorCode,
    readonly driverId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${driverId}: ${message}`, options);
    this.disconnected = code === 'DISCONNECTED';
  }
}

export class DisconnectedError extends DriverError {
  override readonly name = 'DisconnectedError';
  constructor(driverId: string, message = 'instrument disconnected') {
    super('DISCONNECTED', driverId, message);
  }
}

export class NotConnectedError extends DriverError {
  override readonly name = 'NotConnectedError';
  constructor(driverId: string, what = 'command') {
    super('NOT_CONNECTED', driverId, `${what} refused: not connected`);
  }
}

export class TimeoutError extends DriverError {
  override readonly name = 'TimeoutError';
  constructor(driverId: string, what: string, afterMs: number) {
    super('TIMEOUT', driverId, `${what} timed out after ${afterMs} ms`);
  }
}

export class GarbageError extends DriverError {
  override readonly name = 'GarbageError';
  constructor(driverId: string, what: string) {
    super('GARBAGE', driverId, `unparseable reply to ${what}`);
  }
}

export class OutOfRangeError extends DriverError {
  override readonly name = 'OutOfRangeError';
  constructor(driverId: string, what: string, value: number, min: number, max: number, unit = '') {
    super('OUT_OF_RANGE', driverId, `${what}=${value}${unit} outside [${min}, ${max}]${unit}`);
  }
}

export class BusyError extends DriverError {
  override readonly name = 'BusyError';
  constructor(driverId: string, what: string) {
    super('BUSY', driverId, `${what} refused: busy`);
  }
}

/** The instrument refused a command with its own error code (PI `ERR?`, SCPI `SYST:ERR?`). */
export class DeviceRefusedError extends DriverError {
  override readonly name = 'DeviceRefusedError';
  constructor(
    driverId: string,
    readonly deviceCode: number,
    message: string,
    code: 'DEVICE' | 'OUT_OF_RANGE' | 'ABORTED' = 'DEVICE',
  ) {
    super(code, driverId, message);
  }
}

export class AbortedError extends DriverError {
  override readonly name = 'AbortedError';
  constructor(driverId: string, what: string) {
    super('ABORTED', driverId, `${what} aborted`);
  }
}
