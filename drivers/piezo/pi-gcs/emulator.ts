/**
 * A PI GCS 2.0 controller (E-727-like, three closed-loop axes `1 2 3`,
 * 0–100 µm) as a dialogue table for the Emulator (drivers/core/io/emulator.ts).
 *
 * Motion is counted in `ONT?` polls, not in time: after `MOV` an axis reports
 * on target after `settlePolls` polls (`Infinity`: never, a move that is
 * still running when the test pulls the plug), and `POS?` interpolates.
 * Error codes as the controller gives them on `ERR?`: 1 syntax, 2 unknown
 * command, 5 servo off, 7 out of limits, 10 stopped by HLT/STP/#24, 15 invalid axis.
 */
import { DeviceError, type DeviceState, type DialogueTable } from '../../core/io/emulator.js';

interface Axis {
  pos: number;
  start: number;
  target: number;
  servo: boolean;
  vel: number;
  /** ONT? polls left until on target (0: on target). */
  left: number;
}

export interface GcsDevice extends DeviceState {
  axes: Record<string, Axis>;
  min: number;
  max: number;
  /** Polls a move takes (Infinity: it never settles). */
  settlePolls: number;
}

export const GCS_IDN = '(c)2026 Physik Instrumente (PI) GmbH & Co. KG, E-727, 0119999999, 1.0.0 (qscope emulator)';

function axesOf(dev: GcsDevice, list: string | undefined): string[] {
  const names = list && list.trim() ? list.trim().split(/\s+/) : Object.keys(dev.axes);
  for (const n of names) if (!dev.axes[n]) throw new DeviceError(15);
  return names;
}

function where(a: Axis, settlePolls: number): number {
  if (a.left === 0) return a.target;
  if (!Number.isFinite(settlePolls)) return a.start + (a.target - a.start) / 2;
  return a.target - ((a.target - a.start) * a.left) / settlePolls;
}

const fmt = (v: number) => String(Math.round(v * 1e6) / 1e6);
/** A GCS multi-line answer: lines joined by "space LF", the last one ending in a bare LF. */
const lines = (xs: string[]) => xs.join(' \n');

/** Pairs `1 10.5 2 20` → [['1', 10.5], ['2', 20]]; a malformed list is a syntax error. */
function pairs(args: string): [string, number][] {
  const t = args.trim().split(/\s+/);
  if (t.length === 0 || t.length % 2 !== 0) throw new DeviceError(1);
  const out: [string, number][] = [];
  for (let i = 0; i < t.length; i += 2) {
    const v = Number(t[i + 1]);
    if (!Number.isFinite(v)) throw new DeviceError(1);
    out.push([t[i]!, v]);
  }
  return out;
}

function stop(dev: GcsDevice): void {
  for (const a of Object.values(dev.axes)) {
    a.pos = where(a, dev.settlePolls);
    a.target = a.pos;
    a.left = 0;
  }
  // The controller sets error 10 on every stop (HLT, STP, #24): expected after a halt.
  dev.errors.push(10);
}

export function gcsTable(opts: { settlePolls?: number; servoOnAtPowerUp?: boolean } = {}): DialogueTable {
  return {
    name: 'pi-gcs',
    eol: '\n',
    unknownCommandError: 2,
    init: (): GcsDevice => {
      const axis = (): Axis => ({ pos: 50, start: 50, target: 50, servo: opts.servoOnAtPowerUp ?? false, vel: 1000, left: 0 });
      return { errors: [], axes: { '1': axis(), '2': axis(), '3': axis() }, min: 0, max: 100, settlePolls: opts.settlePolls ?? 2 };
    },
    bytes: {
      0x05: { name: '#5', reply: (d) => (Object.values((d as GcsDevice).axes).reduce((m, a, i) => m | (a.left > 0 ? 1 << i : 0), 0)).toString(16) },
      0x07: { name: '#7', reply: () => '\u00b1' },
      0x18: { name: '#24', mutating: true, reply: (d) => (stop(d as GcsDevice), undefined) },
    },
    entries: [
      { match: /^\*IDN\?$/, reply: () => GCS_IDN },
      { match: /^ERR\?$/, reply: (_m, d) => String(d.errors.length ? d.errors.shift() : 0) },
      { match: /^SAI\?$/, reply: (_m, d) => lines(Object.keys((d as GcsDevice).axes)) },
      { match: /^SVO\?(.*)$/, reply: (m, d) => lines(axesOf(d as GcsDevice, m[1]).map((n) => `${n}=${(d as GcsDevice).axes[n]!.servo ? 1 : 0}`)) },
      {
        match: /^SVO (.+)$/,
        mutating: true,
        reply: (m, d) => {
          const dev = d as GcsDevice;
          const ps = pairs(m[1]!);
          axesOf(dev, ps.map((p) => p[0]).join(' '));
          for (const [n, v] of ps) dev.axes[n]!.servo = v !== 0;
          return undefined;
        },
      },
      {
        match: /^ONT\?(.*)$/,
        reply: (m, d) => {
          const dev = d as GcsDevice;
          return lines(
            axesOf(dev, m[1]).map((n) => {
              const a = dev.axes[n]!;
              if (a.left > 0 && Number.isFinite(dev.settlePolls)) {
                a.left--;
                if (a.left === 0) a.pos = a.target;
              }
              return `${n}=${a.left === 0 ? 1 : 0}`;
            }),
          );
        },
      },
      { match: /^POS\?(.*)$/, reply: (m, d) => lines(axesOf(d as GcsDevice, m[1]).map((n) => `${n}=${fmt(where((d as GcsDevice).axes[n]!, (d as GcsDevice).settlePolls))}`)) },
      { match: /^MOV\?(.*)$/, reply: (m, d) => lines(axesOf(d as GcsDevice, m[1]).map((n) => `${n}=${fmt((d as GcsDevice).axes[n]!.target)}`)) },
      {
        match: /^MOV (.+)$/,
        mutating: true,
        reply: (m, d) => {
          const dev = d as GcsDevice;
          const ps = pairs(m[1]!);
          axesOf(dev, ps.map((p) => p[0]).join(' '));
          // All or nothing, as the controller: any refused axis moves none.
          for (const [n, v] of ps) {
            if (!dev.axes[n]!.servo) throw new DeviceError(5);
            if (v < dev.min || v > dev.max) throw new DeviceError(7);
          }
          for (const [n, v] of ps) {
            const a = dev.axes[n]!;
            a.start = where(a, dev.settlePolls);
            a.target = v;
            a.left = a.start === v ? 0 : dev.settlePolls;
          }
          return undefined;
        },
      },
      { match: /^VEL\?(.*)$/, reply: (m, d) => lines(axesOf(d as GcsDevice, m[1]).map((n) => `${n}=${fmt((d as GcsDevice).axes[n]!.vel)}`)) },
      {
        match: /^VEL (.+)$/,
        mutating: true,
        reply: (m, d) => {
          const dev = d as GcsDevice;
          for (const [n, v] of pairs(m[1]!)) {
            if (!dev.axes[n]) throw new DeviceError(15);
            if (v <= 0) throw new DeviceError(17);
            dev.axes[n]!.vel = v;
          }
          return undefined;
        },
      },
      { match: /^TMN\?(.*)$/, reply: (m, d) => lines(axesOf(d as GcsDevice, m[1]).map((n) => `${n}=${fmt((d as GcsDevice).min)}`)) },
      { match: /^TMX\?(.*)$/, reply: (m, d) => lines(axesOf(d as GcsDevice, m[1]).map((n) => `${n}=${fmt((d as GcsDevice).max)}`)) },
      { match: /^(HLT|STP)(\s.*)?$/, mutating: true, reply: (_m, d) => (stop(d as GcsDevice), undefined) },
    ],
  };
}
