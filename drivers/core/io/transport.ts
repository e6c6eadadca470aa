/**
 * Byte transports under a Link: a TCP socket or a serial port. One object per
 * connection (never reused after a close: a write made to a disconnected
 * serial port can sit in a buffer and reach the instrument after a
 * reconnect, NOTES.md). The serial port is always flowing (a `data`
 * listener attached), so an unplug is seen at once as `close` with
 * `disconnected`, not only at the next write.
 */
import { createConnection, type Socket } from 'node:net';
import type { Address } from './address.js';
import { hangUpAwareBinding } from './serial-binding.js';

export interface TransportHandlers {
  data(chunk: Buffer): void;
  /** The connection ended by itself (peer closed, unplugged, error); called at most once. */
  closed(reason: string): void;
}

export interface Transport {
  readonly description: string;
  write(bytes: Buffer): Promise<void>;
  /** Closes on request; `closed` is not called. */
  close(): Promise<void>;
}

export interface OpenOptions {
  baudRate?: number;
  /** Give up connecting after this long, ms. */
  connectTimeoutMs: number;
}

export async function openTransport(address: Address, opts: OpenOptions, handlers: TransportHandlers): Promise<Transport> {
  return address.kind === 'tcp' ? openTcp(address.host, address.port, opts, handlers) : openSerial(address.path, opts, handlers);
}

function openTcp(host: string, port: number, opts: OpenOptions, h: TransportHandlers): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const sock: Socket = createConnection({ host, port });
    let open = false;
    let ended = false;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      if (open) h.closed(reason);
    };
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`tcp://${host}:${port}: no connection after ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      open = true;
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 1000);
      resolve({
        description: `tcp://${host}:${port}`,
        write: (bytes) =>
          new Promise((res, rej) => {
            if (ended || sock.destroyed) return rej(new Error('connection closed'));
            sock.write(bytes, (err) => (err ? rej(err) : res()));
          }),
        close: () =>
          new Promise((res) => {
            ended = true;
            if (sock.destroyed) return res();
            sock.once('close', () => res());
            sock.destroy();
          }),
      });
    });
    sock.on('data', (b: Buffer) => h.data(b));
    sock.on('error', (err) => {
      if (!open) {
        clearTimeout(timer);
        reject(err);
      }
      end(`socket error: ${err.message}`);
    });
    sock.on('end', () => end('peer closed the connection'));
    sock.on('close', () => end('connection closed'));
  });
}

async function openSerial(path: string, opts: OpenOptions, h: TransportHandlers): Promise<Transport> {
  // Loaded only when a serial instrument is configured (the native binding is not needed otherwise).
  const { SerialPort } = await import('serialport');
  const binding = (serialBinding ??= hangUpAwareBinding(SerialPort.binding));
  // `binding` is not in SerialPort's option type, but its constructor takes it (decision 1310).
  const port = new SerialPort({ path, baudRate: opts.baudRate ?? 115200, autoOpen: false, binding } as ConstructorParameters<typeof SerialPort>[0]);
  await new Promise<void>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`serial:${path}: not open after ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs);
    port.open((err) => {
      clearTimeout(timer);
      // Opened after we gave up: close it, or it keeps the port (and its lock) for ever.
      if (timedOut) return void (err ? undefined : port.close(() => undefined));
      if (err) reject(new Error(`serial:${path}: ${err.message}`));
      else resolve();
    });
  });
  let ended = false;
  /** Writes not yet settled: they fail when the port goes (a write must never wait for an `open` that never comes). */
  const writes = new Set<(err: Error) => void>();
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    for (const fail of writes) fail(new Error(`port closed (${reason})`));
    h.closed(reason);
  };
  port.on('data', (b: Buffer) => h.data(b));
  port.on('close', (err?: Error & { disconnected?: boolean }) => end(err?.disconnected ? `unplugged (${err.message})` : 'port closed'));
  port.on('end', () => end('end of stream'));
  port.on('error', (err) => end(`port error: ${err.message}`));
  return {
    description: `serial:${path}`,
    write: (bytes) =>
      new Promise((res, rej) => {
        if (ended || !port.isOpen) return rej(new Error('port closed'));
        const settle = (err?: Error | null) => {
          if (!writes.delete(fail)) return;
          if (err) rej(err);
          else res();
        };
        const fail = (err: Error) => settle(err);
        writes.add(fail);
        port.write(bytes, (err) => {
          if (err) return settle(err);
          // serialport's drain() on a port that is closing waits for an `open` event that never comes.
          if (!port.isOpen) return settle(new Error('port closed before the write was drained'));
          port.drain((e) => settle(e));
        });
      }),
    close: () =>
      new Promise((res) => {
        ended = true;
        for (const fail of writes) fail(new Error('port closed by request'));
        if (!port.isOpen) return res();
        // Bytes still in the output buffer belong to a write that failed: they must never reach the device later
        // (tcflush; on Windows flush() waits for the bytes to go out instead, so there the port is just closed).
        if (process.platform === 'win32') port.close(() => res());
        else port.flush(() => port.close(() => res()));
      }),
  };
}

let serialBinding: typeof import('serialport').SerialPort.binding | undefined;
