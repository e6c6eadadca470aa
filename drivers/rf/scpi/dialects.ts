/**
 * SCPI rf source dialects: what each family calls the same operation. The
 * adapter (driver.ts) speaks through one of these tables; `supports` says
 * what a family can do at all (an operation it lacks is refused by name).
 *
 * | operation            | rs (SMB100A, SGS100A)         | keysight (N5181/N5183 MXG)   | sg384 (SRS SG384)     |
 * |----------------------|-------------------------------|------------------------------|-----------------------|
 * | frequency            | `FREQ <Hz>` / `FREQ?`         | same                         | same                  |
 * | power                | `POW <dBm>` / `POW?`          | same                         | `AMPR` / `AMPR?` (N-type) |
 * | output               | `OUTP ON|OFF` / `OUTP?`       | same                         | `ENBR 1|0` / `ENBR?`  |
 * | list (one freq/trig) | `LIST:FREQ …`, `LIST:POW …`, `LIST:DWEL`, `LIST:TRIG:SOUR EXT`, `FREQ:MODE LIST` | `LIST:TYPE LIST`, `LIST:FREQ …`, `LIST:POW …`, `LIST:DWEL`, `LIST:TRIG:SOUR EXT`, `FREQ:MODE LIST` | — |
 * | pulse mod. from ext. | `PULM:SOUR EXT`, `PULM:STAT ON` | `PULM:SOUR EXT`, `PULM:STAT ON`, `OUTP:MOD ON` | — |
 * | software trigger     | `*TRG`                        | `*TRG`                       | —                     |
 * | wait                 | `*OPC?`                       | `*OPC?`                      | `*OPC?`               |
 * | error queue          | `SYST:ERR?` → `-222,"Data out of range"` … `0,"No error"` | same | `LERR?` → `0` (integer codes) |
 * | reply terminator     | LF                            | LF                           | CR LF                 |
 *
 * Windfreak SynthHD (USB-CDC serial) is not SCPI: single letters (`f` frequency in MHz, `W` power, `E`/`r`
 * output, `?` help), no error query and no `*IDN?`; it has no adapter yet (see docs/HARDWARE.md).
 */
export type DialectName = 'rs' | 'keysight' | 'sg384';

export interface ScpiDialect {
  name: DialectName;
  setFrequency(hz: number): string;
  getFrequency: string;
  setPower(dbm: number): string;
  getPower: string;
  setOutput(on: boolean): string;
  getOutput: string;
  parseOutput(reply: string): boolean | undefined;
  errorQuery: string;
  /** `{code, message}` of one error-queue reply (code 0: the queue is empty). */
  parseError(reply: string): { code: number; message: string } | undefined;
  /** List mode: one frequency per trigger (undefined: not supported). */
  list?(freqsHz: number[], powerDbm: number, dwellS: number): string[];
  listOff?: string[];
  /** Pulse modulation gated by the external trigger input. */
  pulseExternal?: string[];
  pulseOff?: string[];
  trigger?: string;
}

const scpiError = (reply: string) => {
  const m = /^\s*([+-]?\d+)\s*,\s*"?([^"]*)"?\s*$/.exec(reply);
  return m ? { code: Number(m[1]), message: m[2]! } : undefined;
};
const fmtHz = (hz: number) => `${Math.round(hz * 1000) / 1000}`;
const onOff = (r: string) => (/^\s*(1|ON)\s*$/i.test(r) ? true : /^\s*(0|OFF)\s*$/i.test(r) ? false : undefined);

const common = {
  setFrequency: (hz: number) => `FREQ ${fmtHz(hz)}`,
  getFrequency: 'FREQ?',
  setPower: (dbm: number) => `POW ${dbm}`,
  getPower: 'POW?',
  setOutput: (on: boolean) => `OUTP ${on ? 'ON' : 'OFF'}`,
  getOutput: 'OUTP?',
  parseOutput: onOff,
  errorQuery: 'SYST:ERR?',
  parseError: scpiError,
  trigger: '*TRG',
  pulseOff: ['PULM:STAT OFF'],
};

export const DIALECTS: Record<DialectName, ScpiDialect> = {
  rs: {
    name: 'rs',
    ...common,
    list: (f, p, dwell) => [`LIST:FREQ ${f.map(fmtHz).join(',')}`, `LIST:POW ${f.map(() => p).join(',')}`, `LIST:DWEL ${dwell}`, 'LIST:TRIG:SOUR EXT', 'FREQ:MODE LIST'],
    listOff: ['FREQ:MODE CW'],
    pulseExternal: ['PULM:SOUR EXT', 'PULM:STAT ON'],
  },
  keysight: {
    name: 'keysight',
    ...common,
    list: (f, p, dwell) => ['LIST:TYPE LIST', `LIST:FREQ ${f.map(fmtHz).join(',')}`, `LIST:POW ${f.map(() => p).join(',')}`, `LIST:DWEL ${dwell}`, 'LIST:TRIG:SOUR EXT', 'FREQ:MODE LIST'],
    listOff: ['FREQ:MODE CW'],
    pulseExternal: ['PULM:SOUR EXT', 'PULM:STAT ON', 'OUTP:MOD ON'],
  },
  sg384: {
    name: 'sg384',
    setFrequency: (hz) => `FREQ ${fmtHz(hz)}`,
    getFrequency: 'FREQ?',
    setPower: (dbm) => `AMPR ${dbm}`,
    getPower: 'AMPR?',
    setOutput: (on) => `ENBR ${on ? 1 : 0}`,
    getOutput: 'ENBR?',
    parseOutput: onOff,
    errorQuery: 'LERR?',
    parseError: (r) => (/^\s*\d+\s*$/.test(r) ? { code: Number(r), message: Number(r) === 0 ? 'No error' : `error ${r.trim()} (SG384 manual, LERR?)` } : undefined),
  },
};
