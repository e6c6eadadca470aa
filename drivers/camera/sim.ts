/**
 * Simulated camera (Kerr or SPLEEM). It images the world's `magnetic` scene
 * at the stage position the piezo writes into `world.state.focusNm`, through
 * the paper's imaging model (imaging.ts: periodic 23×23 Gaussian blur,
 * σ = 1 HR pixel, then stride f = frame pixel / HR pixel):
 *
 * - Kerr: signal = N·illum(x, y)·(1 + contrast·S_z) + background, with
 *   N = photonRate·exposure photo-electrons per pixel, shot noise (Gaussian
 *   approximation of Poisson, exact enough above ~20 e⁻) and read noise;
 *   illum is a slow non-uniformity over the sensor (a tilted cosine). Longer
 *   exposures are less noisy (relative noise ∝ 1/√N).
 * - SPLEEM: signal = S_c + noise with σ = noiseAt1ms/√exposureMs per component.
 *
 * The header's `calibration` (offset N + background, gain N·contrast for
 * Kerr; 0 and 1 for SPLEEM) maps the signal back to spin (nominal: it does
 * not undo the illumination non-uniformity). Every measurement goes through
 * `world.measure`, so a replay substitutes the recording.
 */
import { Subject, type Observable } from 'rxjs';
import { AbortedError, BusyError, OutOfRangeError } from '../core/errors.js';
import { makeFrame, type Frame } from '../core/frame.js';
import { SimulatedDriver, type FaultSettings } from '../core/simulated.js';
import type { Measurement, SimWorld } from '../core/world.js';
import { blurSample } from './imaging.js';
import {
  CAMERA_CHANNELS,
  CAMERA_COMMANDS,
  MODE_COMPONENTS,
  frameShape,
  roiProblem,
  type Camera,
  type CameraCalibration,
  type CameraFrameFields,
  type CameraMode,
  type CameraRoi,
  type CameraSensor,
  type SnapOptions,
  type SpinComponent,
} from './interface.js';
import { buildMagneticScene, type MagneticScene, type TextureSource } from './scene.js';

export interface CameraSimSettings {
  mode?: CameraMode;
  /** Sensor size in pixels [width, height] (256×256). */
  sensorPx?: [number, number];
  /** One unbinned sensor pixel in the sample plane, nm (80: ×8 on a 10 nm HR lattice). Must be a whole number of HR sites. */
  pixelSizeNm?: number;
  /** Initial ROI [x, y, width, height], unbinned pixels (default: 16×16 in the sensor's centre). */
  roi?: [number, number, number, number];
  binning?: number;
  /** Kerr: photo-electrons per pixel per ms at full illumination (200). */
  photonRatePerMs?: number;
  /** Kerr: relative signal change per unit S_z (0.05: a 5 % Kerr contrast). */
  kerrContrast?: number;
  /** Kerr: background (stray light, offset) per pixel, counts (100). */
  background?: number;
  /** Kerr: read noise, counts RMS (5). */
  readNoise?: number;
  /** Kerr: peak-to-peak fraction of the illumination non-uniformity over the sensor (0.1). */
  illuminationNonUniformity?: number;
  /** SPLEEM: noise σ per component at 1 ms exposure, spin units (0.3). */
  noiseAt1ms?: number;
  faults?: FaultSettings;
}

export class SimulatedCamera extends SimulatedDriver implements Camera {
  readonly kind = 'camera' as const;
  override readonly channels = CAMERA_CHANNELS;
  override readonly commands = CAMERA_COMMANDS;
  readonly mode: CameraMode;
  readonly components: readonly SpinComponent[];
  readonly sensor: Readonly<CameraSensor>;
  private currentRoi: CameraRoi;
  private currentBinning: number;
  private readonly s: Required<Omit<CameraSimSettings, 'faults' | 'roi' | 'mode' | 'sensorPx' | 'binning' | 'pixelSizeNm'>>;
  private sceneP: Promise<MagneticScene> | undefined;
  private scene: MagneticScene | undefined;
  private readonly textures: TextureSource | undefined;
  private readonly subject = new Subject<Frame<Float32Array>>();
  readonly frames$: Observable<Frame<Float32Array>> = this.subject.asObservable();
  private seq = 0;
  private exposing = false;

  constructor(id: string, world: SimWorld, settings: CameraSimSettings = {}, textures?: TextureSource) {
    super(id, world, settings.faults);
    this.mode = settings.mode ?? 'kerr';
    this.components = MODE_COMPONENTS[this.mode];
    const [w, h] = settings.sensorPx ?? [256, 256];
    this.sensor = Object.freeze({ width: w, height: h, pixelSizeNm: settings.pixelSizeNm ?? 80 });
    const roi = settings.roi ?? [Math.floor(w / 2) - 8, Math.floor(h / 2) - 8, 16, 16];
    this.currentRoi = { x: roi[0], y: roi[1], width: roi[2], height: roi[3] };
    this.currentBinning = settings.binning ?? 1;
    const problem = roiProblem(this.sensor, this.currentRoi, this.currentBinning);
    if (problem) throw new RangeError(`${id}.${problem}`);
    this.s = {
      photonRatePerMs: settings.photonRatePerMs ?? 200,
      kerrContrast: settings.kerrContrast ?? 0.05,
      background: settings.background ?? 100,
      readNoise: settings.readNoise ?? 5,
      illuminationNonUniformity: settings.illuminationNonUniformity ?? 0.1,
      noiseAt1ms: settings.noiseAt1ms ?? 0.3,
    };
    this.textures = textures;
  }

  /**
   * The sample, built on first use (an annealed texture takes a native run, so
   * a rig that never snaps never pays for it) and shared through the world.
   */
  private async sample(): Promise<MagneticScene> {
    if (this.scene) return this.scene;
    this.sceneP ??= this.world.scene('magnetic', (cfg, rng) => buildMagneticScene(cfg, rng, this.textures));
    const scene = await this.sceneP;
    const f = this.sensor.pixelSizeNm / scene.hrPixelNm;
    if (!Number.isInteger(f)) throw new RangeError(`${this.id}.pixelSizeNm: ${this.sensor.pixelSizeNm} nm is not a whole number of HR sites (${scene.hrPixelNm} nm)`);
    this.scene = scene;
    return scene;
  }

  get roi(): Readonly<CameraRoi> {
    return { ...this.currentRoi };
  }
  get binning(): number {
    return this.currentBinning;
  }

  protected override async doConnect(): Promise<void> {
    await super.doConnect();
    this.seq = 0;
  }

  async configure(roi: CameraRoi, binning = this.currentBinning): Promise<void> {
    if (this.exposing) throw new BusyError(this.id, 'configure');
    const problem = roiProblem(this.sensor, roi, binning);
    if (problem) throw new OutOfRangeErrorWithMessage(this.id, problem);
    await this.operation('configure');
    this.currentRoi = { x: roi.x, y: roi.y, width: roi.width, height: roi.height };
    this.currentBinning = binning;
  }

  async snap(opts: SnapOptions): Promise<Measurement<Float32Array>> {
    const ms = opts?.exposureMs;
    if (!(typeof ms === 'number' && ms > 0 && Number.isFinite(ms))) throw new RangeError(`exposureMs: must be a finite number > 0, got ${ms}`);
    if (this.exposing) throw new BusyError(this.id, 'snap');
    if (opts.signal?.aborted) throw new AbortedError(this.id, 'snap');
    await this.operation('snap');
    await this.sample();
    this.exposing = true;
    this.setState('busy');
    const roi = { ...this.currentRoi };
    const binning = this.currentBinning;
    const signal = opts.signal ? AbortSignal.any([this.link.signal, opts.signal]) : this.link.signal;
    try {
      await this.clock.sleep(ms, signal);
    } catch (err) {
      if (opts.signal?.aborted && !this.link.signal.aborted) throw new AbortedError(this.id, 'snap');
      throw this.fail(err);
    } finally {
      this.exposing = false;
      if (this.state === 'busy') this.setState('ready');
    }
    const m = this.world.measure(`${this.id}.frame`, () => this.expose(ms, roi, binning));
    this.subject.next(makeFrame(`${this.id}.frame`, this.seq++, this.clock.nowNs(), m.payload, m.shape, m.fields));
    return m;
  }

  /** The physics of one exposure (what a replay substitutes). */
  private expose(exposureMs: number, roi: CameraRoi, binning: number): Measurement<Float32Array> {
    const scene = this.scene!;
    const hr = scene.hrPixelNm;
    const pix = this.sensor.pixelSizeNm * binning;
    const f = Math.round(pix / hr);
    const [rows, cols, C] = frameShape(roi, binning, this.components.length);
    const focus = this.world.state.focusNm ?? null;
    const [sx, sy] = focus ?? [0, 0];
    // HR site under the ROI's first pixel: the sensor centre sits at the stage position.
    const perSensor = this.sensor.pixelSizeNm / hr;
    const c0 = Math.round(sx / hr) + (roi.x - this.sensor.width / 2) * perSensor;
    const r0 = Math.round(sy / hr) + (roi.y - this.sensor.height / 2) * perSensor;
    const select = this.mode === 'kerr' ? [2] : [0, 1, 2];
    const clean = blurSample(scene.spins, Math.round(r0), Math.round(c0), f, rows, cols, select);
    const out = new Float32Array(rows * cols * C);
    let calibration: CameraCalibration;
    if (this.mode === 'kerr') {
      const s = this.s;
      const n0 = s.photonRatePerMs * exposureMs * binning * binning;
      calibration = { offset: n0 + s.background, gain: n0 * s.kerrContrast };
      for (let a = 0; a < rows; a++)
        for (let b = 0; b < cols; b++) {
          // Slow non-uniformity over the sensor: a tilted cosine, peak-to-peak `illuminationNonUniformity`.
          const u = (roi.x + b * binning) / this.sensor.width;
          const v = (roi.y + a * binning) / this.sensor.height;
          const illum = 1 + 0.5 * s.illuminationNonUniformity * Math.cos(Math.PI * (0.7 * u + 0.4 * v));
          const mean = n0 * illum * (1 + s.kerrContrast * clean[a * cols + b]!) + s.background;
          out[a * cols + b] = mean + this.rng.normal(0, Math.sqrt(Math.max(mean, 0) + s.readNoise * s.readNoise));
        }
    } else {
      const sd = this.s.noiseAt1ms / Math.sqrt(exposureMs * binning * binning);
      calibration = { offset: 0, gain: 1 };
      for (let i = 0; i < out.length; i++) out[i] = clean[i]! + this.rng.normal(0, sd);
    }
    const fields: CameraFrameFields = {
      mode: this.mode,
      components: [...this.components],
      exposureMs,
      pixelSizeNm: pix,
      roi,
      binning,
      calibration,
      stageNm: focus ? [focus[0], focus[1], focus[2]] : null,
    };
    return { payload: out, shape: [rows, cols, C], fields: { ...fields } };
  }

  protected override async doDisconnect(): Promise<void> {
    await super.doDisconnect();
  }

  // ---- commands (API) ----
  async command_snap(p: { exposureMs: number }): Promise<Measurement<Float32Array>> {
    return this.snap({ exposureMs: p.exposureMs });
  }
  async command_configure(p: { roi: CameraRoi; binning?: number }): Promise<void> {
    return this.configure(p.roi, p.binning);
  }
  async command_info(): Promise<Record<string, unknown>> {
    return { mode: this.mode, components: [...this.components], sensor: { ...this.sensor }, roi: this.roi, binning: this.binning };
  }
}

/** OutOfRangeError for an ROI/binning problem (its message names the setting). */
class OutOfRangeErrorWithMessage extends OutOfRangeError {
  constructor(id: string, problem: string) {
    super(id, 'roi', NaN, 0, 0);
    this.message = `${id}: ${problem}`;
  }
}
