/**
 * A SCPI rf source as a dialogue table: R&S-style (`rs`), Keysight-style
 * (`keysight`) or SRS SG384 (`sg384`, CRLF replies, `LERR?`, `AMPR`/`ENBR`).
 * Properties with ranges (9 kHz–6 GHz, −120…+18 dBm), an error queue with
 * SCPI codes (−222 data out of range, −113 undefined header), list mode and
 * pulse modulation where the family has them, `*TRG` counted.
 */
import { DeviceError, property, type DeviceState, type DialogueEntry, type DialogueTable } from '../../core/io/emulator.js';
import type { DialectName } from './dialects.js';

export interface ScpiDevice extends DeviceState {
  freq: number;
  pow: number;
  output: boolean;
  mode: 'CW' | 'LIST';
  list: number[];
  pulse: boolean;
  triggers: number;
}

export const SCPI_IDN: Record<DialectName, string> = {
  rs: 'Rohde&Schwarz,SMB100A,1406.6000k03/180000,3.1.19.15-3.50.124.67 (qscope emulator)',
  keysight: 'Keysight Technologies,N5183B,MY00000000,B.01.80 (qscope emulator)',
  sg384: 'Stanford Research Systems,SG384,s/n000000,ver1.0 (qscope emulator)',
};

const SCPI_TEXT: Record<number, string> = { [-222]: 'Data out of range', [-113]: 'Undefined header', [-221]: 'Settings conflict' };

export function scpiTable(dialect: DialectName): DialogueTable {
  const sg = dialect === 'sg384';
  const range = -222;
  const onOff = (v: string) => (/^(1|ON)$/i.test(v) ? true : /^(0|OFF)$/i.test(v) ? false : undefined);
  const entries: DialogueEntry[] = [
    { match: /^\*IDN\?$/, reply: () => SCPI_IDN[dialect] },
    { match: /^\*OPC\?$/, reply: () => '1' },
    { match: /^\*RST$/, mutating: true, reply: (_m, d) => (Object.assign(d, fresh(), { errors: d.errors }), undefined) },
    ...property({ get: /^FREQ\?$/, set: /^FREQ (\S+)$/, key: 'freq', min: 9e3, max: 6e9, rangeError: range, format: (v) => (sg ? v.toFixed(6) : String(v)) }),
    ...(sg
      ? [
          ...property({ get: /^AMPR\?$/, set: /^AMPR (\S+)$/, key: 'pow', min: -110, max: 16.5, rangeError: range, format: (v) => v.toFixed(2) }),
          { match: /^ENBR\?$/, reply: (_m: RegExpExecArray, d: DeviceState) => ((d as ScpiDevice).output ? '1' : '0') },
          { match: /^ENBR (\S+)$/, mutating: true, reply: (m: RegExpExecArray, d: DeviceState) => setOutput(d, onOff(m[1]!)) },
          { match: /^LERR\?$/, reply: (_m: RegExpExecArray, d: DeviceState) => String(d.errors.length ? Math.abs(d.errors.shift()!) : 0) },
        ]
      : [
          ...property({ get: /^POW\?$/, set: /^POW (\S+)$/, key: 'pow', min: -120, max: 18, rangeError: range }),
          { match: /^OUTP\?$/, reply: (_m: RegExpExecArray, d: DeviceState) => ((d as ScpiDevice).output ? '1' : '0') },
          { match: /^OUTP (\S+)$/, mutating: true, reply: (m: RegExpExecArray, d: DeviceState) => setOutput(d, onOff(m[1]!)) },
          {
            match: /^SYST:ERR\?$/,
            reply: (_m: RegExpExecArray, d: DeviceState) => {
              const c = d.errors.shift();
              return c === undefined ? '0,"No error"' : `${c},"${SCPI_TEXT[c] ?? 'Device-specific error'}"`;
            },
          },
          { match: /^LIST:TYPE LIST$/, mutating: true, reply: () => undefined },
          {
            match: /^LIST:FREQ (\S+)$/,
            mutating: true,
            reply: (m: RegExpExecArray, d: DeviceState) => {
              const f = m[1]!.split(',').map(Number);
              if (f.some((x) => !(x >= 9e3 && x <= 6e9))) throw new DeviceError(-222);
              (d as ScpiDevice).list = f;
              return undefined;
            },
          },
          { match: /^LIST:POW (\S+)$/, mutating: true, reply: () => undefined },
          { match: /^LIST:DWEL (\S+)$/, mutating: true, reply: () => undefined },
          { match: /^LIST:TRIG:SOUR EXT$/, mutating: true, reply: () => undefined },
          { match: /^FREQ:MODE (CW|LIST)$/, mutating: true, reply: (m: RegExpExecArray, d: DeviceState) => (((d as ScpiDevice).mode = m[1] as 'CW' | 'LIST'), undefined) },
          { match: /^FREQ:MODE\?$/, reply: (_m: RegExpExecArray, d: DeviceState) => (d as ScpiDevice).mode },
          { match: /^PULM:SOUR EXT$/, mutating: true, reply: () => undefined },
          { match: /^PULM:STAT (\S+)$/, mutating: true, reply: (m: RegExpExecArray, d: DeviceState) => (((d as ScpiDevice).pulse = onOff(m[1]!) ?? false), undefined) },
          { match: /^OUTP:MOD (\S+)$/, mutating: true, reply: () => undefined },
          { match: /^\*TRG$/, mutating: true, reply: (_m: RegExpExecArray, d: DeviceState) => ((d as ScpiDevice).triggers++, undefined) },
        ]),
  ];
  return { name: `scpi-${dialect}`, eol: sg ? '\r\n' : '\n', unknownCommandError: -113, entries, init: fresh };
}

function fresh(): ScpiDevice {
  return { errors: [], freq: 1e9, pow: -30, output: false, mode: 'CW', list: [], pulse: false, triggers: 0 };
}

function setOutput(d: DeviceState, on: boolean | undefined): undefined {
  if (on === undefined) throw new DeviceError(-222);
  (d as ScpiDevice).output = on;
  return undefined;
}
