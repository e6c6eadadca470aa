/**
 * SRS SR830 / SR860 lock-in adapter for the MRFM force sensor (`impl:
 * sr830`, `model: sr830 | sr860`), over serial (SR830 RS-232) or TCP (SR860
 * Ethernet, port 5025). Implements the ForceSensor interface of
 * drivers/force/interface.ts: `measureVariance` samples `SNAP? 1,2` (X, Y)
 * at `lockinRateHz` for T_m, converts volts to force with the `anPerVolt`
 * calibration and returns the in-minus-out variance with its standard error
 * (`inMinusOut`, T_m/τ independent samples, τ = the lock-in time constant).
 *
 * Settings (`timeConstantS`, `sensitivityV`, `referenceHz`) are applied at
 * the first connect only, each checked by reading it back (the lock-ins have
 * no error queue). A reconnect reads them back and refuses to go on if they
 * changed (a power cycle reset them): nothing is re-sent by itself.
 */
import { Subject, type Observable } from 'rxjs';
import type { Clock } from '../../core/clock.js';
import { BusyError, DriverError } from '../../core/errors.js';
import { makeFrame, type Frame } from '../../core/frame.js';
import { lineFraming } from '../../core/io/framing.js';
import { LinkedDriver, type LinkSettings } from '../../core/io/linked.js';
import type { Logger } from '../../core/log.js';
import type { Measurement } from '../../core/world.js';
import { checkForceSettings, checkVarianceRequest, DEFAULT_FORCE_SETTINGS, FORCE_CHANNELS, FORCE_COMMANDS, inMinusOut, type ForceSensor, type ForceSensorSettings, type VarianceFields, type VarianceRequest } from '../interface.js';
import { enbwHz, indexAtLeast, REPLY_EOL, SENS_COMMAND, SENSITIVITIES_V, TIME_CONSTANTS_S, type LockinModel } from './protocol.js';

export interface Sr830Settings extends LinkSettings, Partial<ForceSensorSettings> {
  model?: LockinModel;
  /** Force per volt of X/Y at the lock-in output, aN/V (the resonator's calibration). */
  anPerVolt: number;
  /** Applied at the first connect (rounded up to the lock-in's table). */
  timeConstantS?: number;
  sensitivityV?: number;
  referenceHz?: number;
}

export interface LockinState {
  identity: string | undefined;
  referenceHz: number;
  timeConstantS: number;
  sensitivityV: number;
}

const EMPTY = { type: 'object', additionalProperties: false, properties: {} } as const;
const BLOCK = 64;

export class Sr830Force extends LinkedDriver implements ForceSensor {
  readonly kind = 'force' as const;
  readonly impl = 'sr830';
  override readonly channels = FORCE_CHANNELS;
  override readonly commands = {
    ...FORCE_COMMANDS,
    lockin: { description: 'reference, time constant and sensitivity as the lock-in reports them now', mutating: false, params: EMPTY },
  };
  readonly model: LockinModel;
  readonly lockin: LockinState = { identity: undefined, referenceHz: 0, timeConstantS: 0, sensitivityV: 0 };
  private readonly quadSubject = new Subject<Frame<Float64Array>>();
  readonly quadratures$: Observable<Frame<Float64Array>> = this.quadSubject.asObservable();
  private expected: { oflt: number; sens: number; freq: number } | undefined;
  private measuring = false;
  private quadSeq = 0;
  private readonly base: ForceSensorSettings;

  constructor(
    id: string,
    clock: Clock,
    private readonly s: Sr830Settings,
    log?: Logger,
  ) {
    const model = s.model ?? 'sr830';
    super(
      id,
      clock,
      {
        address: s.address,
        ...(s.baudRate ? { baudRate: s.baudRate } : {}),
        framing: lineFraming(REPLY_EOL[model].charCodeAt(0)),
        replyTimeoutMs: s.replyTimeoutMs ?? 1000,
        sync: { command: '*IDN?\n', matches: (r) => this.lockin.identity === undefined || r.trim() === this.lockin.identity },
        watchdog: { intervalMs: s.watchdogMs ?? 2000 },
      },
      log?.child({ owner: id }),
    );
    this.model = model;
    if (!(s.anPerVolt > 0)) throw new DriverError('CONFIG', id, `anPerVolt: must be > 0, got ${s.anPerVolt}`);
    const { address: _a, baudRate: _b, replyTimeoutMs: _r, watchdogMs: _w, model: _m, anPerVolt: _c, timeConstantS: _t, sensitivityV: _s, referenceHz: _f, ...force } = s;
    this.base = checkForceSettings(id, { ...DEFAULT_FORCE_SETTINGS, ...force });
  }

  settings(): ForceSensorSettings {
    return { ...this.base, ...(this.lockin.timeConstantS > 0 && this.s.bandwidthHz === undefined ? { bandwidthHz: enbwHz(this.lockin.timeConstantS) } : {}) };
  }

  private async index(cmd: string): Promise<number> {
    return this.parse(cmd, await this.link.query(`${cmd}\n`), (r) => (/^\s*\d+\s*$/.test(r) ? Number(r) : undefined));
  }

  private async readBack(): Promise<{ oflt: number; sens: number; freq: number }> {
    const freq = this.parse('FREQ?', await this.link.query('FREQ?\n'), num);
    const oflt = await this.index('OFLT?');
    const sens = await this.index(`${SENS_COMMAND[this.model]}?`);
    const tau = TIME_CONSTANTS_S[this.model][oflt];
    const sv = SENSITIVITIES_V[this.model][sens];
    if (tau === undefined || sv === undefined) throw new DriverError('GARBAGE', this.id, `OFLT ${oflt} / ${SENS_COMMAND[this.model]} ${sens} outside the ${this.model} tables`);
    Object.assign(this.lockin, { referenceHz: freq, timeConstantS: tau, sensitivityV: sv });
    return { oflt, sens, freq };
  }

  /** Sets one value and checks it by reading it back (no error queue on these lock-ins). */
  private async setChecked(cmd: string, value: number, read: () => Promise<number>): Promise<void> {
    await this.link.send(`${cmd} ${value}\n`);
    const got = await read();
    if (Math.abs(got - value) > 1e-9 * Math.max(1, Math.abs(value))) throw new DriverError('DEVICE', this.id, `${cmd} ${value} refused: the lock-in reads back ${got}`);
  }

  protected async verify(): Promise<void> {
    const idn = (await this.link.query('*IDN?\n')).trim();
    if (this.lockin.identity !== undefined && idn !== this.lockin.identity) throw new DriverError('CONFIG', this.id, `a different instrument answers now: '${idn}' (was '${this.lockin.identity}')`);
    this.lockin.identity = idn;
    if (this.expected === undefined) {
      // First connect: apply the configured settings, each read back.
      const s = this.s;
      if (s.referenceHz !== undefined) await this.setChecked('FREQ', s.referenceHz, async () => this.parse('FREQ?', await this.link.query('FREQ?\n'), num));
      if (s.timeConstantS !== undefined) await this.setChecked('OFLT', indexAtLeast(TIME_CONSTANTS_S[this.model], s.timeConstantS), () => this.index('OFLT?'));
      if (s.sensitivityV !== undefined) await this.setChecked(SENS_COMMAND[this.model], indexAtLeast(SENSITIVITIES_V[this.model], s.sensitivityV), () => this.index(`${SENS_COMMAND[this.model]}?`));
      this.expected = await this.readBack();
      return;
    }
    const now = await this.readBack();
    const e = this.expected;
    if (now.oflt !== e.oflt || now.sens !== e.sens || Math.abs(now.freq - e.freq) > 1e-6 * e.freq) {
      throw new DriverError('CONFIG', this.id, `lock-in settings changed while disconnected (power cycle?): reference ${now.freq} Hz, OFLT ${now.oflt}, ${SENS_COMMAND[this.model]} ${now.sens}; expected ${e.freq} Hz, OFLT ${e.oflt}, ${SENS_COMMAND[this.model]} ${e.sens}. Reconnect (connect) after checking the instrument`);
    }
  }

  /** An explicit connect after a settings mismatch accepts what the lock-in has now (the operator checked it). */
  protected override async doConnect(): Promise<void> {
    if (this.state === 'connecting' && this.lastFault?.code === 'CONFIG') this.expected = undefined;
    await super.doConnect();
  }

  async measureVariance(req: VarianceRequest): Promise<Measurement<Float64Array>> {
    checkVarianceRequest(req);
    this.requireReady('measureVariance');
    if (this.measuring) throw new BusyError(this.id, 'measureVariance');
    this.measuring = true;
    this.setState('busy');
    try {
      const rate = this.base.lockinRateHz;
      const n = Math.max(2, Math.round(req.Tm * rate));
      const x = new Float64Array(n);
      const y = new Float64Array(n);
      const k = this.s.anPerVolt;
      let blockStart = 0;
      for (let i = 0; i < n; i++) {
        if (req.signal?.aborted) throw req.signal.reason;
        const [vx, vy] = this.parse('SNAP? 1,2', await this.link.query('SNAP? 1,2\n'), (r) => {
          const m = /^\s*([^,\s]+)\s*,\s*([^,\s]+)\s*$/.exec(r);
          const a = m ? [Number(m[1]), Number(m[2])] : [];
          return a.length === 2 && a.every(Number.isFinite) ? (a as [number, number]) : undefined;
        });
        x[i] = vx * k;
        y[i] = vy * k;
        if (i + 1 - blockStart === BLOCK || i === n - 1) {
          const block = new Float64Array((i + 1 - blockStart) * 2);
          for (let j = blockStart; j <= i; j++) {
            block[2 * (j - blockStart)] = x[j]!;
            block[2 * (j - blockStart) + 1] = y[j]!;
          }
          this.quadSubject.next(makeFrame(`${this.id}.quadratures`, this.quadSeq++, this.clock.nowNs(), block, [i + 1 - blockStart, 2], { rateHz: rate, pulse: req.pulse }));
          blockStart = i + 1;
        }
        if (i < n - 1) await this.clock.sleep(1000 / rate, req.signal);
      }
      const r = inMinusOut(x, y, req.Tm / this.lockin.timeConstantS);
      const fields: VarianceFields = { pulse: req.pulse, Tm: req.Tm, inVariance: r.inVariance, outVariance: r.outVariance, samples: n };
      return { payload: Float64Array.of(r.variance, r.standardError), shape: [2], fields: { ...fields } };
    } finally {
      this.measuring = false;
      if (this.state === 'busy') this.setState('ready');
    }
  }

  async command_measureVariance(p: { pulse: number; Tm: number }): Promise<Measurement<Float64Array>> {
    return this.measureVariance(p);
  }
  async command_settings(): Promise<ForceSensorSettings> {
    return this.settings();
  }
  /** Asks the lock-in (not a cache). */
  async command_lockin(): Promise<LockinState> {
    this.requireReady('lockin', true);
    await this.readBack();
    return { ...this.lockin };
  }
}

function num(r: string): number | undefined {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(r) ? Number(r) : undefined;
}
