// `npm run bench -- io` (needs `npm run build:ts` and socat): instrument I/O on this machine.
//  1. Command round trip through each adapter to its emulator (PI GCS `position` = POS?, SCPI `state` =
//     FREQ? POW? OUTP?, SR830 `lockin` = FREQ? OFLT? SENS?), over loopback TCP and a socat pty; alternative in
//     the same run: a bare socket / bare serial port sending a line to an echo device and reading the line
//     back (no Link, no framing, no parsing), and the Link alone on the echo device.
//  2. Unplug → fault: the socat pty of the PI controller is killed (a) while the adapter polls ONT? mid-move,
//     (b) while the link is idle (detected by the port's hang-up, decision 1310; the 1 s watchdog is the fallback).
// Medians after warm-up. Prints one JSON object per case.
import { mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { RealClock } from '../../dist/drivers/core/clock.js';
import { Emulator } from '../../dist/drivers/core/io/emulator.js';
import { lineFraming } from '../../dist/drivers/core/io/framing.js';
import { Link } from '../../dist/drivers/core/io/link.js';
import { PiGcsPiezo } from '../../dist/drivers/piezo/pi-gcs/driver.js';
import { gcsTable } from '../../dist/drivers/piezo/pi-gcs/emulator.js';
import { ScpiRf } from '../../dist/drivers/rf/scpi/driver.js';
import { scpiTable } from '../../dist/drivers/rf/scpi/emulator.js';
import { Sr830Force } from '../../dist/drivers/force/sr830/driver.js';
import { lockinTable } from '../../dist/drivers/force/sr830/emulator.js';

const N = 400;
const WARM = 50;
const q = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const r3 = (x) => Math.round(x * 1000) / 1000;
const stats = (xs) => ({ p50Ms: r3(q(xs, 0.5)), p90Ms: r3(q(xs, 0.9)), n: xs.length });
const clock = new RealClock();
const echo = { name: 'echo', eol: '\n', unknownCommandError: 0, init: () => ({ errors: [] }), entries: [{ match: /^.*$/, reply: (m) => m[0] }] };

async function serve(table, wire) {
  const emu = new Emulator(table);
  await emu.listen(0);
  if (wire === 'tcp') return { emu, address: emu.tcpAddress };
  const path = join(mkdtempSync(join(tmpdir(), 'qscope-bench-')), 'tty');
  await emu.pty(path);
  return { emu, address: `serial:${path}` };
}

async function timeIt(fn) {
  const out = [];
  for (let i = 0; i < N + WARM; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    if (i >= WARM) out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return stats(out);
}

/** A bare line round trip: write, read until LF; no Link. */
async function bare(address) {
  let write, close;
  let pending;
  let buf = '';
  const onData = (d) => {
    buf += d.toString('latin1');
    const i = buf.indexOf('\n');
    if (i >= 0 && pending) {
      buf = buf.slice(i + 1);
      const p = pending;
      pending = undefined;
      p();
    }
  };
  if (address.startsWith('tcp://')) {
    const [, host, port] = /^tcp:\/\/(.*):(\d+)$/.exec(address);
    const s = createConnection({ host, port: Number(port) });
    await new Promise((r) => s.once('connect', r));
    s.setNoDelay(true);
    s.on('data', onData);
    write = (b) => s.write(b);
    close = () => s.destroy();
  } else {
    const p = new SerialPort({ path: address.slice('serial:'.length), baudRate: 115200, autoOpen: false });
    await new Promise((r, j) => p.open((e) => (e ? j(e) : r())));
    p.on('data', onData);
    write = (b) => p.write(b);
    close = () => new Promise((r) => p.close(r));
  }
  const res = await timeIt(() => new Promise((r) => {
    pending = r;
    write('Q?\n');
  }));
  await close();
  return res;
}

// IO_BENCH=unplug runs only the second part.
for (const wire of process.env.IO_BENCH === 'unplug' ? [] : ['tcp', 'pty']) {
  const e = await serve(echo, wire);
  console.log(JSON.stringify({ case: 'bare line echo', wire, ...(await bare(e.address)) }));
  const link = new Link({ id: 'echo', address: e.address, framing: lineFraming(), sync: { command: '*IDN?\n', matches: () => true }, reconnect: false });
  await link.open();
  console.log(JSON.stringify({ case: 'Link.query on the echo device', wire, ...(await timeIt(() => link.query('Q?\n'))) }));
  await link.close();
  await e.emu.close();

  const g = await serve(gcsTable({ servoOnAtPowerUp: true }), wire);
  const pi = new PiGcsPiezo('stage', clock, { address: g.address, watchdogMs: 0 });
  await pi.connect();
  console.log(JSON.stringify({ case: 'pi-gcs position (POS?)', wire, queries: 1, ...(await timeIt(() => pi.call('position', {}))) }));
  await pi.dispose();
  await g.emu.close();

  const s = await serve(scpiTable('rs'), wire);
  const rf = new ScpiRf('mw', clock, { address: s.address, dialect: 'rs', watchdogMs: 0 });
  await rf.connect();
  console.log(JSON.stringify({ case: 'scpi-rf state (FREQ? POW? OUTP?)', wire, queries: 3, ...(await timeIt(() => rf.call('state', {}))) }));
  await rf.dispose();
  await s.emu.close();

  const l = await serve(lockinTable('sr860'), wire);
  const li = new Sr830Force('lockin', clock, { address: l.address, model: 'sr860', anPerVolt: 1, watchdogMs: 0 });
  await li.connect();
  console.log(JSON.stringify({ case: 'sr860 lockin (FREQ? OFLT? SCAL?)', wire, queries: 3, ...(await timeIt(() => li.call('lockin', {}))) }));
  await li.dispose();
  await l.emu.close();
}

// Unplug → fault.
async function unplugOnce(midMove) {
  const g = await serve(gcsTable({ servoOnAtPowerUp: true, settlePolls: midMove ? Infinity : 2 }), 'pty');
  const pi = new PiGcsPiezo('stage', clock, { address: g.address, watchdogMs: 1000, pollMs: 5 });
  await pi.connect();
  if (midMove) {
    pi.moveTo(1000, 1000, 1000).catch(() => undefined);
    // Wait until the adapter polls ONT? (the move is running), whatever came before it (MOV, ERR?).
    await new Promise((r) => {
      const on = (c) => {
        if (c.command.startsWith('ONT?')) {
          g.emu.off('command', on);
          r();
        }
      };
      g.emu.on('command', on);
    });
  } else {
    await pi.call('position', {});
  }
  const faulted = new Promise((r) => pi.state$.subscribe((s) => s === 'fault' && r()));
  const t = process.hrtime.bigint();
  await g.emu.unplug();
  await faulted;
  const dt = Number(process.hrtime.bigint() - t) / 1e6;
  await pi.dispose();
  await g.emu.close();
  return dt;
}
for (const midMove of [true, false]) {
  const xs = [];
  for (let i = 0; i < 7; i++) xs.push(await unplugOnce(midMove));
  console.log(JSON.stringify({ case: `unplug -> fault (${midMove ? 'mid-move, ONT? polling' : 'idle link, watchdog 1 s as fallback'})`, wire: 'pty', p50Ms: r3(q(xs, 0.5)), maxMs: r3(Math.max(...xs)), n: xs.length }));
}
process.exit(0);
