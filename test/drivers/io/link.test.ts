/**
 * The Link against a small dialogue table over real sockets: framing, a drop
 * mid-reply, a silent device, queued commands refused (never sent) while
 * down, reconnect, and the serial port listing fallback.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DisconnectedError, NotConnectedError, TimeoutError } from '../../../drivers/core/errors.js';
import { parseAddress } from '../../../drivers/core/io/address.js';
import { gcsFraming, lineFraming } from '../../../drivers/core/io/framing.js';
import { Link } from '../../../drivers/core/io/link.js';
import { listSerialPorts } from '../../../drivers/core/io/ports.js';
import { startEmulator, toy, waitFor } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function link(wire: 'tcp' | 'pty' = 'tcp') {
  const { emu, address, cleanup } = await startEmulator(toy, wire);
  const l = new Link({ id: 'toy', address, framing: lineFraming(), replyTimeoutMs: 10_000, sync: { command: '*IDN?\n', matches: (r) => r === 'TOY,1' }, reconnect: { initialMs: 10, maxMs: 50 } });
  cleanups.push(cleanup, () => l.close());
  await l.open();
  return { emu, l };
}

describe('framing', () => {
  it('GCS: an answer ends at an LF not preceded by a space; line framing drops a CR before the LF', () => {
    const g = gcsFraming();
    expect(g.next(Buffer.from('1=12.3 \n2=4.5'))).toBeUndefined();
    const f = g.next(Buffer.from('1=12.3 \n2=4.5\n0\n'))!;
    expect([f.body.toString(), f.used]).toEqual(['1=12.3\n2=4.5', 14]);
    const l = lineFraming();
    expect(l.next(Buffer.from('1.5E9\r\nx'))).toMatchObject({ used: 7 });
    expect(l.next(Buffer.from('1.5E9\r\nx'))!.body.toString()).toBe('1.5E9');
  });

  it('addresses: tcp://HOST:PORT and serial:/dev/PATH; anything else is refused by name', () => {
    expect(parseAddress('tcp://192.168.0.5:50000')).toEqual({ kind: 'tcp', host: '192.168.0.5', port: 50000 });
    expect(parseAddress('serial:/dev/ttyUSB0')).toEqual({ kind: 'serial', path: '/dev/ttyUSB0' });
    expect(() => parseAddress('192.168.0.5:50000')).toThrow("address '192.168.0.5:50000': expected tcp://HOST:PORT or serial:/dev/PATH");
    expect(() => parseAddress('tcp://h:70000')).toThrow('port must be 1..65535');
  });
});

describe.each(['tcp', 'pty'] as const)('Link over %s', (wire) => {
  it('round-trips queries in order with one in flight', async () => {
    const { emu, l } = await link(wire);
    const answers = await Promise.all(['a', 'b', 'c', 'd'].map((x) => l.query(`Q? ${x}\n`)));
    expect(answers).toEqual(['A a', 'A b', 'A c', 'A d']);
    expect(emu.log.slice(-4).map((c) => c.command)).toEqual(['Q? a', 'Q? b', 'Q? c', 'Q? d']);
  });

  it('a connection dropped mid-reply fails that request; queued commands fail without being sent; the link comes back', async () => {
    const { emu, l } = await link(wire);
    emu.knobs.dropMidReply = 1;
    const down = waitFor(l.events$, (e) => e.type === 'down');
    const inFlight = l.query('Q? first\n');
    const queued = l.send('SET 7\n');
    // Over a pty too the hang-up is seen at once (a tty that reads 0 bytes is unplugged: decision 1310), never
    // only at the reply deadline; the queued command is refused unsent (the emulator's log below).
    await expect(inFlight).rejects.toBeInstanceOf(DisconnectedError);
    await expect(queued).rejects.toBeInstanceOf(NotConnectedError);
    await down;
    expect(emu.log.map((c) => c.command)).not.toContain('SET 7');
    expect(emu.dev.n).toBe(0);
    if (wire === 'pty') await emu.replug();
    await waitFor(l.state$, (s) => s === 'open');
    expect(await l.query('Q? again\n')).toBe('A again');
    expect(emu.mutatingSince(0)).toEqual([]);
  });
});

describe('Link: a silent device', () => {
  it('times out, then the resync probe gets no answer: the link goes down and the next command is not sent', async () => {
    const { emu, l } = await link('tcp');
    emu.knobs.silent = true;
    l.setReplyTimeout(50); // a silent device never answers: this times out however slow the machine
    await expect(l.query('Q? 1\n')).rejects.toBeInstanceOf(TimeoutError);
    const down = waitFor(l.events$, (e) => e.type === 'down');
    await expect(l.send('SET 5\n')).rejects.toBeInstanceOf(DisconnectedError);
    await down;
    expect(emu.log.map((c) => c.command).slice(-2)).toEqual(['Q? 1', '*IDN?']);
    expect(emu.dev.n).toBe(0);
  });

  it('the watchdog notices a device that went silent while idle', async () => {
    const { emu, address, cleanup } = await startEmulator(toy, 'tcp');
    const l = new Link({ id: 'toy', address, framing: lineFraming(), replyTimeoutMs: 10_000, sync: { command: '*IDN?\n', matches: (r) => r === 'TOY,1' }, watchdog: { intervalMs: 20 }, reconnect: false });
    cleanups.push(cleanup, () => l.close());
    await l.open();
    l.setReplyTimeout(50);
    const down = waitFor(l.events$, (e) => e.type === 'down');
    emu.knobs.silent = true;
    const ev = await down;
    expect(ev.type === 'down' && ev.error.message).toMatch(/no answer to the sync probe/);
  });
});

describe('serial port listing', () => {
  it('falls back to /dev/serial/by-id and /dev/tty{USB,ACM}* (by-id names first)', async () => {
    const dev = mkdtempSync(join(tmpdir(), 'qscope-dev-'));
    cleanups.push(() => rmSync(dev, { recursive: true, force: true }));
    for (const n of ['ttyUSB0', 'ttyUSB1', 'ttyACM0', 'ttyS0']) writeFileSync(join(dev, n), '');
    mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
    symlinkSync(join(dev, 'ttyUSB1'), join(dev, 'serial', 'by-id', 'usb-PI_E-727_0119999999-if00-port0'));
    symlinkSync(join(dev, 'ttyUSB9'), join(dev, 'serial', 'by-id', 'usb-gone-if00'));
    const { ports } = await listSerialPorts({ devDir: dev, skipUdev: true });
    expect(ports.map((p) => [p.path.slice(dev.length), p.source])).toEqual([
      ['/serial/by-id/usb-PI_E-727_0119999999-if00-port0', 'by-id'],
      ['/ttyACM0', 'dev'],
      ['/ttyUSB0', 'dev'],
    ]);
  });

});
