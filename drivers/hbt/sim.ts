/**
 * Simulated HBT correlator. Rates follow the piezo: the focus is read from
 * `world.state.focusNm` (written by the piezo simulator), the emitters from
 * the world's `emitters` scene. Each histogram bin is Poisson with mean
 * R1·R2·Δτ·T·η·g2_meas(τ) (drivers/hbt/model.ts); photon counts are Poisson
 * with mean (R1 + R2)·T. Every measurement goes through `world.measure`, so a
 * replay substitutes the recording. Time passes on the world's clock.
 */
import { SimulatedDriver, type FaultSettings } from '../core/simulated.js';
import type { Measurement, SimWorld } from '../core/world.js';
import { HBT_CHANNELS, HBT_COMMANDS, type HbtCorrelator, type HistogramFields } from './interface.js';
import { binnedDeficit, checkGeometry, expectedHistogram, mixtureWeights, samplePoissonHistogram, threeLevelFromG0, type HbtGeometry } from './model.js';
import { buildEmitterScene, emitterIntensities, type EmitterScene } from './scene.js';

export interface HbtSimSettings {
  /** Delay bins over the range (215). */
  bins?: number;
  /** Total delay range, ns (500: ±250 ns). */
  rangeNs?: number;
  /** Bin holding zero delay (default the middle bin). */
  zeroBin?: number;
  /** Timing jitter of each detector, ps (30). */
  detectorJitterPs?: number;
  /** Timing jitter of the correlator, ps (4). */
  correlatorJitterPs?: number;
  /** Start–stop efficiency η: fraction of photon pairs recorded (0.01 gives 1–61 events/s on an in-focus NV). */
  efficiency?: number;
  /** Fraction of the light sent to detector 1 (0.5). */
  splitRatio?: number;
  faults?: FaultSettings;
}

export class SimulatedHbt extends SimulatedDriver implements HbtCorrelator {
  readonly kind = 'hbt';
  override readonly channels = HBT_CHANNELS;
  override readonly commands = HBT_COMMANDS;
  readonly geometry: HbtGeometry;
  private readonly efficiency: number;
  private readonly split: number;
  private readonly scene: EmitterScene;
  /** Binned g2 − 1 per emitter (fixed physics, computed once). */
  private readonly deficits: Float64Array[];

  constructor(id: string, world: SimWorld, s: HbtSimSettings = {}) {
    super(id, world, s.faults);
    const bins = s.bins ?? 215;
    this.geometry = {
      bins,
      binWidthNs: (s.rangeNs ?? 500) / bins,
      zeroBin: s.zeroBin ?? Math.floor(bins / 2),
      jitterNs: Math.hypot((s.detectorJitterPs ?? 30) / 1000, (s.detectorJitterPs ?? 30) / 1000, (s.correlatorJitterPs ?? 4) / 1000),
    };
    checkGeometry(this.geometry, id);
    this.efficiency = s.efficiency ?? 0.01;
    if (!(this.efficiency > 0 && this.efficiency <= 1)) throw new RangeError(`${id}.efficiency: must be in (0, 1], got ${this.efficiency}`);
    this.split = s.splitRatio ?? 0.5;
    if (!(this.split > 0 && this.split < 1)) throw new RangeError(`${id}.splitRatio: must be in (0, 1), got ${this.split}`);
    this.scene = world.scene('emitters', buildEmitterScene);
    this.deficits = this.scene.emitters.map((e) => binnedDeficit(threeLevelFromG0(e.g2zero, e.t1Ns, e.a2, e.t2Ns), this.geometry));
  }

  protected override async doConnect(): Promise<void> {
    await super.doConnect();
  }

  /** Rates at the current focus: per-emitter intensities and the total, counts/s. */
  private ratesHere(): { intensities: Float64Array; total: number } {
    const f = this.world.state.focusNm;
    const focus: [number, number, number] = f ?? [this.scene.field.centerNm[0], this.scene.field.centerNm[1], this.scene.samplePlaneNm];
    const intensities = emitterIntensities(this.scene, focus);
    let total = this.scene.backgroundCps;
    for (const v of intensities) total += v;
    return { intensities, total };
  }

  async histogram(integrationMs: number): Promise<Measurement<Uint32Array>> {
    checkIntegration(integrationMs);
    await this.operation('histogram');
    this.setState('busy');
    try {
      await this.wait(integrationMs);
    } finally {
      if (this.state === 'busy') this.setState('ready');
    }
    return this.world.measure(`${this.id}.histogram`, () => {
      const T = integrationMs / 1000;
      const { intensities, total } = this.ratesHere();
      const w = mixtureWeights(intensities, this.scene.backgroundCps);
      const r1 = total * this.split;
      const r2 = total * (1 - this.split);
      const lam = expectedHistogram(r1, r2, T, this.deficits, w, this.geometry, { efficiency: this.efficiency });
      const hist = samplePoissonHistogram(this.rng, lam, new Uint32Array(this.geometry.bins));
      let events = 0;
      for (const v of hist) events += v;
      const fields: HistogramFields = { integrationS: T, binWidthNs: this.geometry.binWidthNs, zeroBin: this.geometry.zeroBin, jitterNs: this.geometry.jitterNs, counts: this.rng.poisson(total * T), events };
      return { payload: hist, fields: { ...fields } };
    });
  }

  async countRate(integrationMs: number): Promise<Measurement<Float64Array>> {
    checkIntegration(integrationMs);
    await this.operation('countRate');
    await this.wait(integrationMs);
    return this.world.measure(`${this.id}.rate`, () => {
      const T = integrationMs / 1000;
      const counts = this.rng.poisson(this.ratesHere().total * T);
      return { payload: Float64Array.of(counts / T), fields: { counts, integrationS: T } };
    });
  }

  async command_histogram(p: { integrationMs: number }): Promise<Measurement<Uint32Array>> {
    return this.histogram(p.integrationMs);
  }
  async command_countRate(p: { integrationMs: number }): Promise<Measurement<Float64Array>> {
    return this.countRate(p.integrationMs);
  }
  async command_geometry(): Promise<HbtGeometry> {
    return { ...this.geometry };
  }
}

function checkIntegration(ms: number): void {
  if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`integrationMs: must be a finite number > 0, got ${ms}`);
}
