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
  const port = new SerialPort({ path, baudRate: opts.baudRate ?? 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serial:${path}: not open after ${opts.connectTimeoutMs} ms`)), opts.connectTimeoutMs);
    port.open((err) => {
      clearTimeout(timer);
      if (err) reject(new Error(`serial:${path}: ${err.message}`));
      else resolve();
    });
  });
  let ended = false;
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
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
        port.write(bytes, (err) => (err ? rej(err) : port.drain((e) => (e ? rej(e) : res()))));
      }),
    close: () =>
      new Promise((res) => {
        ended = true;
        if (!port.isOpen) return res();
        port.close(() => res());
      }),
  };
}
