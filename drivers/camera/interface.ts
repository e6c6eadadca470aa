/**
 * The camera (kind `camera`): one interface for magnetic-imaging cameras —
 * a Kerr (MOKE) microscope's camera, which sees S_z contrast, and a SPLEEM,
 * which images all three spin components. Every implementation (the
 * simulator, the vendor-SDK bridge adapter, a GigE Vision adapter) offers
 * this interface; the contract suite test/drivers/camera/contract.test.ts
 * runs against each.
 *
 * Frames: payload f32, shape [rows, cols, C] in C order (row-major, the
 * components innermost), C = `components.length`. `rows`/`cols` are the ROI
 * size divided by the binning. Values are in the camera's signal units
 * (Kerr: counts; SPLEEM: normalised spin asymmetry); the header's
 * `calibration` maps them to spin components: S = (value − offset) / gain.
 */
import type { Observable } from 'rxjs';
import type { ChannelSpec, CommandSpec, Driver } from '../core/driver.js';
import type { Frame } from '../core/frame.js';
import type { Measurement } from '../core/world.js';

export type SpinComponent = 'Sx' | 'Sy' | 'Sz';

/** `kerr`: polar MOKE, S_z only. `spleem`: spin-polarised LEEM, S_x, S_y, S_z. */
export type CameraMode = 'kerr' | 'spleem';

/** The components a mode images, in payload order. */
export const MODE_COMPONENTS: Readonly<Record<CameraMode, readonly SpinComponent[]>> = Object.freeze({
  kerr: Object.freeze(['Sz'] as SpinComponent[]),
  spleem: Object.freeze(['Sx', 'Sy', 'Sz'] as SpinComponent[]),
});

/** Region of interest on the sensor, in unbinned sensor pixels (x: column, y: row). */
export interface CameraRoi {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The sensor: size in pixels, and one unbinned pixel's size projected on the sample. */
export interface CameraSensor {
  width: number;
  height: number;
  /** Edge of one unbinned sensor pixel in the sample plane, nm. */
  pixelSizeNm: number;
}

/** Maps signal to spin: S = (value − offset) / gain (per component, same for all). */
export interface CameraCalibration {
  offset: number;
  gain: number;
}

/** Header fields of a `<id>.frame` frame (and of `snap`'s measurement). */
export interface CameraFrameFields {
  mode: CameraMode;
  /** Payload components, innermost axis: `["Sz"]` (Kerr) or `["Sx","Sy","Sz"]` (SPLEEM). */
  components: SpinComponent[];
  exposureMs: number;
  /** Edge of one frame pixel (binned) in the sample plane, nm. */
  pixelSizeNm: number;
  roi: CameraRoi;
  /** Square binning factor (1, 2, 4, …). */
  binning: number;
  /** Signal-to-spin calibration (see the module comment). */
  calibration: CameraCalibration;
  /** Stage position (x, y, z) nm the frame was taken at, when the rig knows it; null otherwise. */
  stageNm: [number, number, number] | null;
}

export interface SnapOptions {
  /** Exposure time, ms of experiment time (> 0). */
  exposureMs: number;
  /** Aborting cancels the exposure (rejects with AbortedError; nothing is emitted). */
  signal?: AbortSignal;
}

export interface Camera extends Driver {
  readonly kind: 'camera';
  readonly mode: CameraMode;
  /** `MODE_COMPONENTS[mode]`. */
  readonly components: readonly SpinComponent[];
  readonly sensor: Readonly<CameraSensor>;
  /** Current region of interest (unbinned sensor pixels). */
  readonly roi: Readonly<CameraRoi>;
  /** Current binning factor. */
  readonly binning: number;
  /**
   * Sets the ROI and binning for the next exposures. Rejects with
   * OutOfRangeError (nothing changes) when the ROI leaves the sensor or its
   * size is not a multiple of the binning; BusyError during an exposure.
   */
  configure(roi: CameraRoi, binning?: number): Promise<void>;
  /**
   * Exposes one frame for `exposureMs` of experiment time and resolves with
   * it: payload f32 [rows, cols, C], fields `CameraFrameFields`. The same
   * frame is also emitted on `frames$`. BusyError while another exposure runs.
   */
  snap(opts: SnapOptions): Promise<Measurement<Float32Array>>;
  /**
   * Every frame the camera delivers, in order, stamped by the driver:
   * stream `<id>.frame`, seq from 0 per connection, header fields
   * `CameraFrameFields`. Hot: subscribers see frames delivered after they subscribed.
   */
  readonly frames$: Observable<Frame<Float32Array>>;
}

export const CAMERA_CHANNELS: ChannelSpec[] = [
  { name: 'frame', dtype: 'f32', unit: 'signal', access: 'stream', description: 'one exposure [rows, cols, C]; header: mode, components, exposureMs, pixelSizeNm, roi, binning, calibration, stageNm' },
];

const SNAP_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['exposureMs'],
  properties: { exposureMs: { type: 'number', exclusiveMinimum: 0, maximum: 3_600_000, unit: 'ms' } },
};

const ROI_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['roi'],
  properties: {
    roi: {
      type: 'object',
      additionalProperties: false,
      required: ['x', 'y', 'width', 'height'],
      properties: {
        x: { type: 'integer', minimum: 0, unit: 'px' },
        y: { type: 'integer', minimum: 0, unit: 'px' },
        width: { type: 'integer', minimum: 1, unit: 'px' },
        height: { type: 'integer', minimum: 1, unit: 'px' },
      },
    },
    binning: { type: 'integer', minimum: 1, maximum: 64, unit: '1' },
  },
};

/** Commands callable through the API (`instruments.call`); implemented as `command_<name>`. */
export const CAMERA_COMMANDS: Record<string, CommandSpec> = {
  snap: { description: 'expose one frame for exposureMs; returns it (payload f32 [rows, cols, C])', params: SNAP_PARAMS, mutating: true },
  configure: { description: 'set the region of interest (unbinned sensor pixels) and binning', params: ROI_PARAMS, mutating: true },
  info: { description: 'mode, components, sensor, current ROI and binning', params: { type: 'object', additionalProperties: false }, mutating: false },
};

/**
 * Checks an ROI and binning against a sensor; returns the problem, or
 * undefined when they fit (shared by every implementation so they agree).
 */
export function roiProblem(sensor: CameraSensor, roi: CameraRoi, binning: number): string | undefined {
  if (!Number.isInteger(binning) || binning < 1) return `binning: must be an integer ≥ 1, got ${binning}`;
  for (const k of ['x', 'y', 'width', 'height'] as const) {
    if (!Number.isInteger(roi[k]) || roi[k] < (k === 'width' || k === 'height' ? 1 : 0)) return `roi.${k}: must be a non-negative integer (size ≥ 1), got ${roi[k]}`;
  }
  if (roi.x + roi.width > sensor.width) return `roi: columns ${roi.x}..${roi.x + roi.width - 1} leave the sensor (width ${sensor.width})`;
  if (roi.y + roi.height > sensor.height) return `roi: rows ${roi.y}..${roi.y + roi.height - 1} leave the sensor (height ${sensor.height})`;
  if (roi.width % binning !== 0 || roi.height % binning !== 0) return `roi: ${roi.width}×${roi.height} is not a multiple of binning ${binning}`;
  return undefined;
}

/** Payload shape [rows, cols, C] of a frame taken with `roi` and `binning`. */
export function frameShape(roi: CameraRoi, binning: number, components: number): [number, number, number] {
  return [roi.height / binning, roi.width / binning, components];
}
