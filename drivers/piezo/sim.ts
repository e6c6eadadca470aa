/**
 * Simulated piezo scanner: the motion model (model.ts) on the world's clock.
 * The simulated controller polls its on-target flag every `pollMs`, writes
 * the true focus position into `world.state.focusNm` as it goes (what the
 * correlator or camera sees), and reads back through `world.measure`, so a
 * replay can stand in for the physics.
 */
import { defer, filter, interval, map, share, type Observable } from 'rxjs';
import type { Frame } from '../core/frame.js';
import { makeFrame } from '../core/frame.js';
import { AbortedError, BusyError, OutOfRangeError } from '../core/errors.js';
import { SimulatedDriver } from '../core/simulated.js';
import type { SimWorld } from '../core/world.js';
import { PIEZO_CHANNELS, PIEZO_COMMANDS, type MoveOptions, type PiezoScanner, type Vec3 } from './interface.js';
import { PiezoMotion, type PiezoMotionParams } from './model.js';
import { PIEZO_SIM_DEFAULTS, type PiezoSimSettings } from './settings.js';

export class SimulatedPiezo extends SimulatedDriver implements PiezoScanner {
  readonly kind = 'piezo' as const;
  override readonly channels = PIEZO_CHANNELS;
  override readonly commands = PIEZO_COMMANDS;
  readonly rangeNm: Readonly<Vec3>;
  readonly maxVelocityNmPerMs: number;
  readonly settleToleranceNm: number;
  readonly position$: Observable<Frame<Float64Array>>;
  private readonly settings: PiezoSimSettings;
  private readonly params: PiezoMotionParams;
  private readonly homeNm: Vec3;
  /** Where the stage rests when no move runs (true position, nm). */
  private rest: Vec3;
  private motion: PiezoMotion | undefined;

  constructor(id: string, world: SimWorld, settings: Partial<PiezoSimSettings> = {}) {
    const s: PiezoSimSettings = { ...PIEZO_SIM_DEFAULTS, ...settings };
    super(id, world, s.faults ?? {});
    this.settings = s;
    this.rangeNm = s.rangeUm.map((r) => r * 1000) as Vec3;
    this.maxVelocityNmPerMs = s.maxVelocityUmPerS; // µm/s = nm/ms
    this.settleToleranceNm = s.settleToleranceNm;
    this.params = {
      rangeNm: [...this.rangeNm] as Vec3,
      maxVelocityNmPerMs: this.maxVelocityNmPerMs,
      settleToleranceNm: s.settleToleranceNm,
      settleTimeConstantMs: s.settleTimeConstantMs,
      overshootFraction: s.overshootFraction,
    };
    this.homeNm = (s.homeUm ?? s.rangeUm.map((r) => r / 2)).map((h) => h * 1000) as Vec3;
    this.rest = [...this.homeNm] as Vec3;
    this.world.state.focusNm = [...this.rest] as Vec3;

    const stream = `${id}.position`;
    this.position$ = defer(() => {
      let seq = 0;
      return interval(1000 / s.readoutHz, this.clock.scheduler).pipe(
        filter(() => this.state === 'ready' || this.state === 'busy'),
        map(() => {
          const m = this.world.measure(stream, () => ({
            payload: Float64Array.from(this.readback()),
            shape: [3],
            fields: { onTarget: !this.motion },
          }));
          return makeFrame(stream, seq++, this.clock.nowNs(), m.payload, m.shape, m.fields);
        }),
      );
    }).pipe(share());
  }

  /** The motion model of the move in progress (for diagnostics and tests). */
  get currentMotion(): PiezoMotion | undefined {
    return this.motion;
  }

  position(): Vec3 {
    this.requireReady('position', true);
    return this.readback();
  }

  async home(opts: MoveOptions = {}): Promise<Vec3> {
    return this.moveTo(...this.homeNm, opts);
  }

  async moveTo(x: number, y: number, z: number, opts: MoveOptions = {}): Promise<Vec3> {
    if (this.state === 'busy') throw new BusyError(this.id, 'moveTo');
    const target: Vec3 = [x, y, z];
    // Checked before anything is sent: an out-of-range target moves nothing.
    (['x', 'y', 'z'] as const).forEach((axis, i) => {
      const v = target[i]!;
      if (!(v >= 0 && v <= this.rangeNm[i]!)) throw new OutOfRangeError(this.id, axis, v, 0, this.rangeNm[i]!, ' nm');
    });
    if (opts.signal?.aborted) throw new AbortedError(this.id, 'moveTo');
    await this.operation('moveTo');
    const motion = new PiezoMotion(this.truePosition(), target, this.clock.now(), this.params);
    this.motion = motion;
    this.setState('busy');
    const signal = opts.signal ? AbortSignal.any([this.link.signal, opts.signal]) : this.link.signal;
    try {
      for (;;) {
        const now = this.clock.now();
        this.world.state.focusNm = motion.positionAt(now);
        if (motion.onTargetAt(now)) break;
        await this.clock.sleep(this.settings.pollMs, signal);
      }
    } catch (err) {
      this.halt();
      if (opts.signal?.aborted && !this.link.signal.aborted) {
        this.setState('ready');
        throw new AbortedError(this.id, 'moveTo');
      }
      throw this.fail(err);
    }
    this.rest = [...target] as Vec3;
    this.motion = undefined;
    this.world.state.focusNm = [...target] as Vec3;
    this.setState('ready');
    return this.readback();
  }

  protected override async doDisconnect(): Promise<void> {
    await super.doDisconnect();
    this.halt();
  }

  /** Stops where the stage is now (controller halt, link loss). */
  private halt(): void {
    if (!this.motion) return;
    this.rest = this.motion.positionAt(this.clock.now());
    this.motion = undefined;
    this.world.state.focusNm = [...this.rest] as Vec3;
  }

  private truePosition(): Vec3 {
    return this.motion ? this.motion.positionAt(this.clock.now()) : ([...this.rest] as Vec3);
  }

  private readback(): Vec3 {
    const sd = this.settings.positionNoiseNm;
    return this.truePosition().map((p) => p + (sd > 0 ? this.rng.normal(0, sd) : 0)) as Vec3;
  }

  // ---- commands (API) ----
  async command_moveTo(p: { x: number; y: number; z: number }): Promise<Vec3> {
    return this.moveTo(p.x, p.y, p.z);
  }
  async command_home(): Promise<Vec3> {
    return this.home();
  }
  async command_position(): Promise<Vec3> {
    return this.position();
  }
}
