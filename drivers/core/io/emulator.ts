/**
 * Instrument emulators driven by dialogue tables (in the spirit of
 * pyvisa-sim): a table of command patterns with their replies, device
 * properties with ranges, and an error queue. One Emulator serves a table on
 * an ephemeral loopback TCP port and, through `socat`, on a pseudo-terminal
 * (so serial adapters are tested over a real tty). Fault knobs: go silent,
 * hold replies back (a late reply: it is sent just before the next one, after
 * the client gave up), send garbage, drop the connection mid-reply, stop
 * taking bytes (`stall`: flow control held), unplug and replug. Every command received is logged with its `mutating` flag, so
 * a test can prove what was (not) re-sent. Used by tests, benchmarks and
 * `qscope emulate`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

/** A device-side error: pushed on the error queue (GCS `ERR?`, SCPI `SYST:ERR?`). */
export class DeviceError extends Error {
  constructor(readonly code: number) {
    super(`device error ${code}`);
  }
}

export type DeviceState = Record<string, unknown> & { errors: number[] };

export interface DialogueEntry {
  /** Matches the whole command line (terminator removed). */
  match: RegExp;
  /** The reply without terminator (`undefined`: none). Throw DeviceError to queue an error. */
  reply?: (m: RegExpExecArray, dev: DeviceState) => string | undefined;
  /** True for commands that change the device (moves, output, servo). */
  mutating?: boolean;
}

export interface DialogueTable {
  name: string;
  /** Reply terminator. */
  eol: string;
  /** Single-byte commands without terminator (PI GCS `#5`, `#7`, `#24`), by byte value. */
  bytes?: Record<number, { name: string; reply?: (dev: DeviceState) => string | undefined; mutating?: boolean }>;
  entries: DialogueEntry[];
  /** Error pushed for a command no entry matches. */
  unknownCommandError: number;
  /** A fresh device (power-on state). */
  init(): DeviceState;
}

/** A numeric property with a range: `NAME?` reads it, `NAME value` sets it (out of range → `rangeError`). */
export function property(opts: { get: RegExp; set: RegExp; key: string; min: number; max: number; rangeError: number; format?: (v: number) => string }): DialogueEntry[] {
  const fmt = opts.format ?? ((v: number) => String(v));
  return [
    { match: opts.get, reply: (_m, d) => fmt(d[opts.key] as number) },
    {
      match: opts.set,
      mutating: true,
      reply: (m, d) => {
        const v = Number(m[1]);
        if (!Number.isFinite(v) || v < opts.min || v > opts.max) throw new DeviceError(opts.rangeError);
        d[opts.key] = v;
        return undefined;
      },
    },
  ];
}

export interface LoggedCommand {
  command: string;
  mutating: boolean;
  /** Which connection it came on (0, 1, …: a reconnect is a new one). */
  connection: number;
}

export interface Knobs {
  /** Answer nothing at all. */
  silent: boolean;
  /** Hold back this many replies: each goes out just before the next reply (after the client's timeout). */
  late: number;
  /** Replace this many replies with garbage bytes. */
  garbage: number;
  /** Drop the connection in the middle of this many replies (half the bytes sent). */
  dropMidReply: number;
}

export class Emulator extends EventEmitter {
  dev: DeviceState;
  readonly log: LoggedCommand[] = [];
  readonly knobs: Knobs = { silent: false, late: 0, garbage: 0, dropMidReply: 0 };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private held: string[] = [];
  private connections = 0;
  private socat: ChildProcess | undefined;
  private ptyPath: string | undefined;
  port = 0;

  constructor(readonly table: DialogueTable) {
    super();
    this.dev = table.init();
  }

  /** Serves TCP on `port` (0: an ephemeral one) on loopback; resolves with the port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  /** `tcp://127.0.0.1:PORT` of the running server. */
  get tcpAddress(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  /**
   * Also serves on a pseudo-terminal at `path` (a socat pty linked there,
   * bridged to the TCP server). Resolves once the path exists.
   */
  async pty(path: string): Promise<string> {
    if (!this.server) await this.listen();
    this.ptyPath = path;
    const p = spawn('socat', [`pty,raw,echo=0,link=${path}`, `tcp:127.0.0.1:${this.port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.socat = p;
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // socat is up once its TCP side reached the server.
    await new Promise<void>((resolve, reject) => {
      const onConn = () => {
        p.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number | null) => {
        this.off('connection', onConn);
        reject(new Error(`socat exited (${code}): ${stderr.trim() || 'is socat installed? apt-get install socat'}`));
      };
      this.once('connection', onConn);
      p.once('exit', onExit);
      p.once('error', (err) => onExit(err.message as never));
    });
    return path;
  }

  /**
   * Pulls the plug: kills the pty bridge (serial) or drops every TCP
   * connection. The pty's link goes too (as a /dev/serial/by-id name does on
   * a USB unplug): a SIGKILLed socat leaves it dangling, and the pty number
   * it names can be handed to another program's pty meanwhile.
   */
  async unplug(): Promise<void> {
    const p = this.socat;
    this.socat = undefined;
    // All at once, before waiting for socat to exit: a client sees the hang-up before that and may replug at
    // once; its new link and connection must not be removed here afterwards. SIGKILL: socat cleans nothing up.
    const alive = p !== undefined && p.exitCode === null && p.signalCode === null;
    const exited = alive ? new Promise((r) => p.once('exit', r)) : undefined;
    if (alive) p.kill('SIGKILL');
    if (p && this.ptyPath) rmSync(this.ptyPath, { force: true });
    for (const s of [...this.sockets]) s.destroy();
    await exited;
  }

  /**
   * The device stops taking bytes (flow control held) or takes them again:
   * the pty bridge is stopped (SIGSTOP), TCP connections stop reading.
   */
  stall(on: boolean): void {
    this.socat?.kill(on ? 'SIGSTOP' : 'SIGCONT');
    for (const s of this.sockets) {
      if (on) s.pause();
      else s.resume();
    }
  }

  /** Plugs back in: the pty again at the same path (the device keeps its state, as a controller that stayed powered). */
  async replug(): Promise<void> {
    if (this.ptyPath) await this.pty(this.ptyPath);
  }

  /** Power cycle: the device forgets its state (servo off, output off). */
  powerCycle(): void {
    this.dev = this.table.init();
    this.held = [];
  }

  pushError(code: number): void {
    this.dev.errors.push(code);
  }

  /** Mutating commands received after log index `from`. */
  mutatingSince(from: number): LoggedCommand[] {
    return this.log.slice(from).filter((c) => c.mutating);
  }

  async close(): Promise<void> {
    await this.unplug();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private serve(sock: Socket): void {
    const connection = this.connections++;
    this.sockets.add(sock);
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (buf.length === 0) break;
        const single = this.table.bytes?.[buf[0]!];
        if (single) {
          buf = buf.subarray(1);
          this.record(single.name, single.mutating ?? false, connection);
          this.answer(sock, () => single.reply?.(this.dev));
          continue;
        }
        const nl = buf.indexOf(0x0a);
        if (nl < 0) break;
        const line = buf.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        buf = buf.subarray(nl + 1);
        this.handle(sock, line, connection);
      }
    });
    this.emit('connection', connection);
  }

  private handle(sock: Socket, line: string, connection: number): void {
    const text = line.trim();
    if (text === '') return;
    for (const e of this.table.entries) {
      const m = e.match.exec(text);
      if (!m) continue;
      this.record(text, e.mutating ?? false, connection);
      this.answer(sock, () => e.reply?.(m, this.dev));
      return;
    }
    this.record(text, false, connection);
    this.dev.errors.push(this.table.unknownCommandError);
  }

  private record(command: string, mutating: boolean, connection: number): void {
    const entry = { command, mutating, connection };
    this.log.push(entry);
    this.emit('command', entry);
  }

  private answer(sock: Socket, compute: () => string | undefined): void {
    let reply: string | undefined;
    try {
      reply = compute();
    } catch (err) {
      if (err instanceof DeviceError) this.dev.errors.push(err.code);
      else throw err;
    }
    if (reply === undefined || this.knobs.silent) return;
    let out = reply + this.table.eol;
    if (this.knobs.late > 0) {
      this.knobs.late--;
      this.held.push(out);
      return;
    }
    if (this.knobs.garbage > 0) {
      this.knobs.garbage--;
      out = '\u00ff\u0013#?!~garbage\u0001' + this.table.eol;
    }
    const earlier = this.held.join('');
    this.held = [];
    if (this.knobs.dropMidReply > 0) {
      this.knobs.dropMidReply--;
      sock.write(Buffer.from(earlier + out.slice(0, Math.max(1, out.length >> 1)), 'latin1'), () => {
        sock.destroy();
        // Over a pty the bridge goes too: to the serial client it is an unplug.
        void this.unplug();
      });
      return;
    }
    sock.write(Buffer.from(earlier + out, 'latin1'));
  }
}
