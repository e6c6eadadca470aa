/**
 * `impl: bridge` camera: a GenICam/GigE Vision or vendor-SDK camera behind a
 * bridge (docs/BRIDGE.md, kind `camera`; bridges/aravis_camera.py). Same
 * interface and frames as the simulator: `snap` returns f32 [rows, cols, C]
 * with CameraFrameFields and emits it on `frames$`. The sensor and mode are
 * read at connect and must not change between connections; the ROI and
 * binning qscope set are re-applied after a reconnect and read back.
 */
import { Subject, type Observable } from 'rxjs';
import { BridgeDriver } from '../core/bridge/driver.js';
import type { BridgeSettings } from '../core/bridge/settings.js';
import type { Clock } from '../core/clock.js';
import { AbortedError, BusyError, DriverError, OutOfRangeError } from '../core/errors.js';
import { makeFrame, type Frame } from '../core/frame.js';
import type { Measurement, SimWorld } from '../core/world.js';
import { CAMERA_CHANNELS, CAMERA_COMMANDS, MODE_COMPONENTS, frameShape, roiProblem, type Camera, type CameraCalibration, type CameraFrameFields, type CameraMode, type CameraRoi, type CameraSensor, type SnapOptions, type SpinComponent } from './interface.js';

interface Info {
  mode: CameraMode;
  sensor: CameraSensor;
  roi: CameraRoi;
  binning: number;
}

export class BridgeCamera extends BridgeDriver implements Camera {
  readonly kind = 'camera' as const;
  override readonly channels = CAMERA_CHANNELS;
  override readonly commands = { ...CAMERA_COMMANDS }; // own copy: the bridge's extra commands are added to it
  private info: Info | undefined;
  private readonly subject = new Subject<Frame<Float32Array>>();
  readonly frames$: Observable<Frame<Float32Array>> = this.subject.asObservable();
  private seq = 0;
  private exposing = false;

  constructor(
    id: string,
    clock: Clock,
    settings: BridgeSettings,
    private readonly world?: SimWorld,
  ) {
    super(id, clock, settings);
  }

  private get known(): Info {
    if (!this.info) throw new DriverError('NOT_CONNECTED', this.id, 'camera info is read from the bridge at connect');
    return this.info;
  }
  get mode(): CameraMode {
    return this.known.mode;
  }
  get components(): readonly SpinComponent[] {
    return MODE_COMPONENTS[this.known.mode];
  }
  get sensor(): Readonly<CameraSensor> {
    return { ...this.known.sensor };
  }
  get roi(): Readonly<CameraRoi> {
    return { ...this.known.roi };
  }
  get binning(): number {
    return this.known.binning;
  }

  protected async verify(): Promise<void> {
    const { result } = await this.request('info');
    const i = result as Info;
    if (!i || !(i.mode in MODE_COMPONENTS) || !i.sensor || !i.roi || roiProblem(i.sensor, i.roi, i.binning)) throw new DriverError('GARBAGE', this.id, `bridge info: not a valid {mode, sensor, roi, binning}: ${JSON.stringify(result)}`);
    const prev = this.info;
    if (prev && (prev.mode !== i.mode || JSON.stringify(prev.sensor) !== JSON.stringify(i.sensor)))
      throw new DriverError('CONFIG', this.id, `the bridge's camera changed since the last connection (${prev.mode} ${JSON.stringify(prev.sensor)} → ${i.mode} ${JSON.stringify(i.sensor)})`);
    this.info = { mode: i.mode, sensor: { ...i.sensor }, roi: { ...i.roi }, binning: i.binning };
    if (prev && (JSON.stringify(prev.roi) !== JSON.stringify(i.roi) || prev.binning !== i.binning)) await this.applyRoi(prev.roi, prev.binning);
    this.seq = 0;
  }

  private async applyRoi(roi: CameraRoi, binning: number): Promise<void> {
    await this.request('configure', { roi, binning });
    const { result } = await this.request('info');
    const back = result as Info;
    if (JSON.stringify(back.roi) !== JSON.stringify(roi) || back.binning !== binning) throw new DriverError('CONFIG', this.id, `camera reads back ROI ${JSON.stringify(back.roi)} binning ${back.binning}, asked for ${JSON.stringify(roi)} binning ${binning}`);
    this.info = { ...this.known, roi: { ...roi }, binning };
  }

  async configure(roi: CameraRoi, binning = this.binning): Promise<void> {
    if (this.exposing) throw new BusyError(this.id, 'configure');
    const problem = roiProblem(this.sensor, roi, binning);
    if (problem) {
      const e = new OutOfRangeError(this.id, 'roi', NaN, 0, 0);
      e.message = `${this.id}: ${problem}`;
      throw e;
    }
    this.requireReady('configure');
    await this.applyRoi({ x: roi.x, y: roi.y, width: roi.width, height: roi.height }, binning);
  }

  async snap(opts: SnapOptions): Promise<Measurement<Float32Array>> {
    const ms = opts?.exposureMs;
    if (!(typeof ms === 'number' && ms > 0 && Number.isFinite(ms))) throw new RangeError(`exposureMs: must be a finite number > 0, got ${ms}`);
    if (this.exposing) throw new BusyError(this.id, 'snap');
    if (opts.signal?.aborted) throw new AbortedError(this.id, 'snap');
    this.requireReady('snap');
    this.exposing = true;
    this.setState('busy');
    let f;
    try {
      f = await this.measure('snap', { exposureMs: ms }, ms);
    } finally {
      this.exposing = false;
      if (this.state === 'busy') this.setState('ready');
    }
    // An abort during the exposure: the frame is dropped, nothing is emitted.
    if (opts.signal?.aborted) throw new AbortedError(this.id, 'snap');
    const { roi, binning, mode } = this.known;
    const shape = frameShape(roi, binning, this.components.length);
    if (!(f.payload instanceof Float32Array) || f.shape.join() !== shape.join()) throw this.garbage(`snap: expected f32 [${shape.join(', ')}], got ${f.payload.constructor.name} [${f.shape.join(', ')}]`);
    const cal = f.fields.calibration as CameraCalibration | undefined;
    if (!cal || typeof cal.offset !== 'number' || typeof cal.gain !== 'number') throw this.garbage('snap: field calibration {offset, gain} missing');
    const focus = this.world?.state.focusNm;
    const fields: CameraFrameFields = {
      mode,
      components: [...this.components],
      exposureMs: ms,
      pixelSizeNm: typeof f.fields.pixelSizeNm === 'number' ? f.fields.pixelSizeNm : this.known.sensor.pixelSizeNm * binning,
      roi: { ...roi },
      binning,
      calibration: { offset: cal.offset, gain: cal.gain },
      stageNm: Array.isArray(f.fields.stageNm) ? (f.fields.stageNm as [number, number, number]) : focus ? [focus[0], focus[1], focus[2]] : null,
    };
    const m: Measurement<Float32Array> = { payload: f.payload, shape, fields: { ...fields } };
    this.subject.next(makeFrame(`${this.id}.frame`, this.seq++, this.clock.nowNs(), m.payload, m.shape, m.fields));
    return m;
  }

  async command_snap(p: { exposureMs: number }): Promise<Measurement<Float32Array>> {
    return this.snap({ exposureMs: p.exposureMs });
  }
  async command_configure(p: { roi: CameraRoi; binning?: number }): Promise<void> {
    return this.configure(p.roi, p.binning);
  }
  async command_info(): Promise<Record<string, unknown>> {
    return { mode: this.mode, components: [...this.components], sensor: this.sensor, roi: this.roi, binning: this.binning };
  }
}
