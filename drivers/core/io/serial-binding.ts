/**
 * The serialport binding with one read rule changed (decision 1310): on Linux
 * and macOS a tty that was hung up (a USB-serial adapter unplugged, the far
 * end of a pseudo-terminal gone) reads 0 bytes for ever. The stock binding
 * (`@serialport/bindings-cpp` 13) retries a 0-byte read at once, so such a
 * port spins a thread-pool thread, never delivers an error or an end, and an
 * unplug that wins this race is never seen (measured: 1 unplug in ~20 over a
 * socat pty). The port is opened non-blocking with VMIN=1, so "no data yet"
 * is EAGAIN, and 0 bytes can only mean the device is gone: here it is a
 * disconnect error, which the stream turns into `close` with `disconnected`.
 * Everything else (open, write, drain, the poller, Windows) is the stock one.
 */
import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';

const readAsync = promisify(fsRead);

type ReadResult = { buffer: Buffer; bytesRead: number };

/** What a unix binding port carries (bindings-cpp's LinuxPortBinding / DarwinPortBinding). */
export interface UnixPort {
  fd: number | null;
  poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
  openOptions: { vmin?: number };
  read(buffer: Buffer, offset: number, length: number): Promise<ReadResult>;
}

/** The part of a serialport binding used here (`SerialPort.binding`). */
export interface SerialBinding {
  list(): Promise<unknown[]>;
  open(options: never): Promise<object>;
}

const isUnixPort = (p: object): p is UnixPort => typeof (p as UnixPort).fd === 'number' && typeof (p as UnixPort).poller?.once === 'function';

/** An error the stream treats as the port going away (`close` with `disconnected`). */
function hungUp(): Error {
  return Object.assign(new Error('the tty was hung up: it reads 0 bytes, the device is gone'), { disconnect: true });
}

/** The stream ignores a canceled read (the port is being closed on request). */
function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

/** One read of at least one byte; a hung-up tty rejects instead of spinning. */
export async function readOrHangUp(port: UnixPort, buffer: Buffer, offset: number, length: number): Promise<ReadResult> {
  for (;;) {
    if (port.fd === null) throw canceled();
    let bytesRead: number;
    try {
      ({ bytesRead } = await readAsync(port.fd, buffer, offset, length, null));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw err;
      if (port.fd === null) throw canceled();
      await new Promise<void>((resolve, reject) => port.poller.once('readable', (e) => (e ? reject(e) : resolve())));
      continue;
    }
    if (bytesRead > 0) return { buffer, bytesRead };
    if (port.fd === null) throw canceled();
    throw hungUp();
  }
}

/** `base` (the detected binding) with `readOrHangUp` as the read of every unix port it opens with VMIN ≥ 1. */
export function hangUpAwareBinding<B extends SerialBinding>(base: B): B {
  return {
    list: () => base.list(),
    async open(options: never) {
      const port = await base.open(options);
      if (isUnixPort(port) && (port.openOptions.vmin ?? 1) >= 1) {
        port.read = (buffer: Buffer, offset: number, length: number) => readOrHangUp(port, buffer, offset, length);
      }
      return port;
    },
  } as B;
}
