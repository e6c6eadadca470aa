/**
 * The two ways an unplug used to hang a serial link (decision 1310), each
 * forced deterministically over a real socat pseudo-terminal:
 *
 * - a tty that is already hung up when the port reads: it reads 0 bytes for
 *   ever, and the stock binding retried that at once (a busy loop, no error,
 *   no `close`: the unplug was never seen);
 * - a write that never completes (the device takes no bytes; or serialport's
 *   drain waiting for an `open` that never comes after the port closed
 *   mid-write): the request never settled, and the link's queue, its
 *   reconnect and the engine behind it waited for ever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DisconnectedError, NotConnectedError } from '../../../drivers/core/errors.js';
import { lineFraming } from '../../../drivers/core/io/framing.js';
import { Link } from '../../../drivers/core/io/link.js';
import { hangUpAwareBinding, type UnixPort } from '../../../drivers/core/io/serial-binding.js';
import { startEmulator, toy, waitFor } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Settles `p` or says it did not within `ms` (the behaviour under test settles in milliseconds; this only turns a hang into a clear failure). */
function settled<T>(p: Promise<T>, ms = 5000): Promise<{ value?: T; error?: unknown; hung?: true }> {
  return Promise.race([p.then((value) => ({ value }), (error: unknown) => ({ error })), new Promise<{ hung: true }>((r) => setTimeout(() => r({ hung: true }), ms).unref())]);
}

describe('a serial port whose tty is hung up', () => {
  it('reads as a disconnect error, not an endless run of 0-byte reads', async () => {
    const { emu, address, cleanup } = await startEmulator(toy, 'pty');
    cleanups.push(cleanup);
    const { SerialPort } = await import('serialport');
    const binding = hangUpAwareBinding(SerialPort.binding);
    const port = (await binding.open({ path: address.slice('serial:'.length), baudRate: 115200 } as never)) as UnknownPort;
    cleanups.push(() => (port.isOpen ? port.close() : undefined));
    // The bridge is killed while nothing reads: when the port reads next, its tty is already hung up.
    await emu.unplug();
    const r = await settled(port.read(Buffer.alloc(64), 0, 64));
    expect(r.hung, 'the read never settled').toBeUndefined();
    expect(r.error).toMatchObject({ disconnect: true, message: expect.stringMatching(/hung up/) });
  });
});

type UnknownPort = UnixPort & { isOpen: boolean; close(): Promise<void> };

describe('a serial link whose write never completes', () => {
  async function stalledLink() {
    const { emu, address, cleanup } = await startEmulator(toy, 'pty');
    const l = new Link({ id: 'toy', address, framing: lineFraming(), replyTimeoutMs: 10_000, sync: { command: '*IDN?\n', matches: (r) => r === 'TOY,1' }, reconnect: { initialMs: 10, maxMs: 50 } });
    cleanups.push(cleanup, () => l.close());
    await l.open();
    expect(await l.query('Q? 1\n')).toBe('A 1');
    // The device stops taking bytes; a command far larger than the tty's buffers cannot be written.
    emu.stall(true);
    return { emu, l, big: `SET ${'9'.repeat(1 << 20)}\n` };
  }

  async function comesBack(emu: Awaited<ReturnType<typeof stalledLink>>['emu'], l: Link) {
    const up = waitFor(l.events$, (e) => e.type === 'up');
    await emu.replug();
    await up;
    expect(await l.query('Q? 3\n')).toBe('A 3');
    // The half-written SET never reached the device, then or after the reconnect.
    expect(emu.log.filter((c) => c.mutating)).toEqual([]);
    expect(emu.dev.n).toBe(0);
  }

  it('fails by its deadline with a typed error, takes the link down (queued commands refused unsent), and the link reconnects', async () => {
    const { emu, l, big } = await stalledLink();
    const down = waitFor(l.events$, (e) => e.type === 'down');
    l.setReplyTimeout(200);
    const write = l.send(big);
    const queued = l.query('Q? 2\n');
    const r = await settled(write);
    expect(r.hung, 'the write never settled').toBeUndefined();
    expect(r.error).toBeInstanceOf(DisconnectedError);
    expect((r.error as Error).message).toMatch(/write of .* failed: not written after 200 ms/);
    await expect(queued).rejects.toBeInstanceOf(NotConnectedError);
    await down;
    await emu.unplug();
    l.setReplyTimeout(10_000);
    await comesBack(emu, l);
  });

  it('pending when the pty is killed: fails with the link’s DisconnectedError, and the link reconnects', async () => {
    const { emu, l, big } = await stalledLink();
    const down = waitFor(l.events$, (e) => e.type === 'down');
    const write = l.send(big);
    await emu.unplug();
    const r = await settled(write);
    expect(r.hung, 'the write never settled').toBeUndefined();
    expect(r.error).toBeInstanceOf(DisconnectedError);
    await down;
    await comesBack(emu, l);
  });
});
