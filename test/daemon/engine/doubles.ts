/**
 * Small test instruments, pipelines and plans for the four experiment shapes
 * of DESIGN.md. They are test doubles (the real ones come from the
 * experiments' issues) but use the real Driver/SimulatedDriver contracts, so
 * replay goes through the same seam (world.measure).
 */
import { map, type OperatorFunction } from 'rxjs';
import type { Clock } from '../../../drivers/core/clock.js';
import type { Frame } from '../../../drivers/core/frame.js';
import { SimulatedDriver, type FaultSettings } from '../../../drivers/core/simulated.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { DriverRegistry, type DriverFactory } from '../../../drivers/core/registry.js';
import type { Pipeline, PipelineContext, PipelineOutput } from '../../../pipelines/core/pipeline.js';
import { PipelineRegistry } from '../../../pipelines/core/pipeline.js';
import { CONTINUE, anyOf, maxSamples, minEvents, type StopDecision } from '../../../pipelines/core/stopping.js';
import type { Plan } from '../../../pipelines/core/plan.js';
import { PlanRegistry } from '../../../daemon/plans/index.js';
import type { Driver } from '../../../drivers/core/driver.js';

// ---------------- instruments ----------------

export class TestScanner extends SimulatedDriver {
  readonly kind = 'piezo';
  override readonly channels = [{ name: 'position', dtype: 'f64' as const, unit: 'nm', access: 'read' as const }];
  override readonly commands = {
    moveTo: { description: 'move', mutating: true, params: { type: 'object', properties: { xNm: { type: 'number' }, yNm: { type: 'number' } }, required: ['xNm', 'yNm'] } },
    position: { description: 'where', mutating: false, params: { type: 'object' } },
  };
  moves = 0;
  safed = 0;
  async command_moveTo(p: { xNm: number; yNm: number }): Promise<void> {
    await this.operation('moveTo');
    await this.wait(1);
    this.moves++;
    this.world.state.focusNm = [p.xNm, p.yNm, 0];
  }
  async command_position(): Promise<number[]> {
    return this.world.state.focusNm ?? [0, 0, 0];
  }
  async safeState(): Promise<void> {
    this.safed++;
  }
}

/** HBT-like counter: u32[bins] histogram whose rate depends on the focus position. */
export class TestCorrelator extends SimulatedDriver {
  readonly kind = 'hbt';
  override readonly channels = [{ name: 'histogram', dtype: 'u32' as const, unit: 'counts', access: 'stream' as const }];
  override readonly commands = {
    histogram: { description: 'integrate', mutating: true, params: { type: 'object', properties: { integrationMs: { type: 'number' }, bins: { type: 'integer' } } } },
  };
  async command_histogram(p: { integrationMs: number; bins?: number }) {
    await this.operation('histogram');
    await this.wait(p.integrationMs);
    const bins = p.bins ?? 16;
    return this.world.measure(`${this.id}.histogram`, () => {
      const [x = 0, y = 0] = this.world.state.focusNm ?? [];
      const rate = 0.5 + 3 * Math.exp(-((x - 100) ** 2 + (y - 100) ** 2) / 5000);
      const h = new Uint32Array(bins);
      for (let i = 0; i < bins; i++) h[i] = this.rng.poisson((rate * p.integrationMs) / 1000);
      return { payload: h, fields: { integrationMs: p.integrationMs, focusNm: [x, y] } };
    });
  }
}

/** ODMR-like readout: one f64 signal at (t1, t2) of a 2D time grid. */
export class TestOdmr extends SimulatedDriver {
  readonly kind = 'odmr';
  override readonly channels = [{ name: 'signal', dtype: 'f64' as const, unit: '1', access: 'stream' as const }];
  override readonly commands = {
    measure: { description: 'one point', mutating: true, params: { type: 'object', properties: { i: { type: 'integer' }, j: { type: 'integer' } } } },
  };
  async command_measure(p: { i: number; j: number }) {
    await this.operation('measure');
    await this.wait(2);
    return this.world.measure(`${this.id}.signal`, () => ({
      payload: new Float64Array([Math.cos(0.7 * p.i) * Math.cos(0.4 * p.j) + this.rng.normal(0, 0.05)]),
      fields: { i: p.i, j: p.j },
    }));
  }
}

export class TestCamera extends SimulatedDriver {
  readonly kind = 'camera';
  override readonly channels = [{ name: 'frame', dtype: 'u16' as const, unit: 'counts', access: 'stream' as const }];
  override readonly commands = {
    grab: { description: 'one frame', mutating: true, params: { type: 'object', properties: { exposureMs: { type: 'number' } } } },
  };
  async command_grab(p: { exposureMs: number }) {
    await this.operation('grab');
    await this.wait(p.exposureMs);
    return this.world.measure(`${this.id}.frame`, () => {
      const img = new Uint16Array(8 * 8);
      for (let i = 0; i < img.length; i++) img[i] = 100 + ((i * 7) % 13) * 10 + this.rng.poisson(5);
      return { payload: img, shape: [8, 8] };
    });
  }
}

export class TestRf extends SimulatedDriver {
  readonly kind = 'rf';
  override readonly commands = {
    setPulse: { description: 'select pulse', mutating: true, params: { type: 'object', properties: { index: { type: 'integer' }, fMHz: { type: 'number' } } } },
    off: { description: 'rf off', mutating: true, params: { type: 'object' } },
  };
  rfOn = false;
  async command_setPulse(p: { index: number; fMHz: number }): Promise<void> {
    await this.operation('setPulse');
    this.world.state.rfPulse = p.index;
    this.rfOn = true;
  }
  async command_off(): Promise<void> {
    this.rfOn = false;
  }
  async safeState(): Promise<void> {
    this.rfOn = false;
  }
}

export class TestForce extends SimulatedDriver {
  readonly kind = 'force';
  override readonly channels = [{ name: 'quadratures', dtype: 'f64' as const, unit: 'aN', access: 'stream' as const }];
  override readonly commands = {
    read: { description: 'lock-in read', mutating: true, params: { type: 'object', properties: { tauMs: { type: 'number' } } } },
  };
  async command_read(p: { tauMs: number }) {
    await this.operation('read');
    await this.wait(p.tauMs);
    return this.world.measure(`${this.id}.quadratures`, () => {
      const [x = 0, y = 0] = this.world.state.focusNm ?? [];
      const k = Number(this.world.state.rfPulse ?? 0);
      return { payload: new Float64Array([Math.sin(x / 50 + k) + this.rng.normal(0, 0.01), Math.cos(y / 50 - k)]), fields: { pulse: k } };
    });
  }
}

type Ctor = new (id: string, world: SimWorld, faults?: FaultSettings) => SimulatedDriver;
const KINDS: Record<string, Ctor> = { piezo: TestScanner, hbt: TestCorrelator, odmr: TestOdmr, camera: TestCamera, rf: TestRf, force: TestForce };

export function testDriverRegistry(): DriverRegistry {
  const reg = new DriverRegistry();
  for (const [kind, ctor] of Object.entries(KINDS)) {
    const f: DriverFactory = {
      kind,
      impl: 'sim',
      schema: { type: 'object' },
      async create(id, cfg, ctx) {
        return new ctor(id, ctx.world, (cfg.faults ?? {}) as FaultSettings);
      },
    };
    reg.register(f);
  }
  return reg;
}

/** The rig config used by tests: every test instrument, simulated. */
export const TEST_INSTRUMENTS = {
  piezo0: { kind: 'piezo', impl: 'sim' },
  hbt0: { kind: 'hbt', impl: 'sim' },
  odmr0: { kind: 'odmr', impl: 'sim' },
  cam0: { kind: 'camera', impl: 'sim' },
  rf0: { kind: 'rf', impl: 'sim' },
  force0: { kind: 'force', impl: 'sim' },
};

export async function buildTestRig(clock: Clock, opts: { seed?: number; faults?: Record<string, FaultSettings>; world?: SimWorld } = {}) {
  const world = opts.world ?? new SimWorld({ seed: opts.seed ?? 7, clock });
  const instruments: Record<string, Record<string, unknown> & { kind: string; impl: string }> = {};
  for (const [id, cfg] of Object.entries(TEST_INSTRUMENTS)) instruments[id] = { ...cfg, ...(opts.faults?.[id] ? { faults: opts.faults[id] } : {}) };
  const drivers = await testDriverRegistry().build(instruments, { clock, world });
  for (const d of drivers.values()) await d.connect();
  return { world, drivers, instruments };
}

// ---------------- pipelines ----------------

/** Per-pixel event totals; stops a dwell once `minEvents` were collected (or `maxChunks`). */
export class DwellPipeline implements Pipeline {
  readonly name = 'dwell';
  readonly version = '1';
  private readonly perPixel = new Map<number, { n: number; events: number }>();
  constructor(private readonly ctx: PipelineContext) {}
  operator(): OperatorFunction<Frame, PipelineOutput> {
    return map((f) => {
      const pixel = Number(f.header.pixel ?? -1);
      let ev = 0;
      for (const v of f.payload) ev += v;
      const s = this.perPixel.get(pixel) ?? { n: 0, events: 0 };
      s.n++;
      s.events += ev;
      this.perPixel.set(pixel, s);
      return { name: 'events', payload: new Float64Array([s.events, s.events / s.n]), fields: { pixel } };
    });
  }
  shouldStop(scope: unknown): StopDecision {
    if (typeof scope !== 'object' || scope === null || !('pixel' in scope)) return CONTINUE;
    const s = this.perPixel.get(Number((scope as { pixel: number }).pixel)) ?? { n: 0, events: 0 };
    const p = this.ctx.planParams as { minEvents: number; maxChunks: number };
    return anyOf(minEvents(p.minEvents), maxSamples(p.maxChunks))(s);
  }
}

/** Adaptive grid: next points = unsampled points farthest (in index space) from every sampled one, deterministic ties. */
export class GridPipeline implements Pipeline {
  readonly name = 'grid';
  readonly version = '1';
  readonly sampled: [number, number][] = [];
  readonly values = new Map<string, number>();
  readonly asked: unknown[][] = [];
  constructor(private readonly ctx: PipelineContext) {}
  operator(): OperatorFunction<Frame, PipelineOutput> {
    return map((f) => {
      const i = Number(f.header.i);
      const j = Number(f.header.j);
      this.sampled.push([i, j]);
      this.values.set(`${i},${j}`, f.payload[0]!);
      const n = Number(this.ctx.planParams.n);
      const img = new Float64Array(n * n);
      for (const [k, v] of this.values) {
        const [a, b] = k.split(',').map(Number) as [number, number];
        img[a * n + b] = v;
      }
      return { name: 'map', payload: img, shape: [n, n], fields: { sampled: this.sampled.length } };
    });
  }
  nextPoints(k: number): { i: number; j: number }[] {
    const n = Number(this.ctx.planParams.n);
    const taken = new Set(this.sampled.map(([i, j]) => `${i},${j}`));
    const cand: { i: number; j: number; d: number }[] = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (taken.has(`${i},${j}`)) continue;
        let d = Infinity;
        for (const [a, b] of this.sampled) d = Math.min(d, (a - i) ** 2 + (b - j) ** 2);
        cand.push({ i, j, d: this.sampled.length ? d : (i * 31 + j * 17) % 11 });
      }
    cand.sort((x, y) => y.d - x.d || x.i - y.i || x.j - y.j);
    const out = cand.slice(0, k).map(({ i, j }) => ({ i, j }));
    this.asked.push(out);
    return out;
  }
  shouldStop(scope: unknown): StopDecision {
    const budget = Number(this.ctx.planParams.budget);
    return scope === 'session' && this.sampled.length >= budget ? { stop: true, reason: `sampled ${this.sampled.length} ≥ budget ${budget}` } : CONTINUE;
  }
}

/** Running mean of a frame stream; stops the session after `frames` frames. */
export class StreamPipeline implements Pipeline {
  readonly name = 'stream';
  readonly version = '1';
  private n = 0;
  private sum: Float64Array | undefined;
  constructor(private readonly ctx: PipelineContext) {}
  operator(): OperatorFunction<Frame, PipelineOutput> {
    return map((f) => {
      this.sum ??= new Float64Array(f.payload.length);
      for (let i = 0; i < f.payload.length; i++) this.sum[i]! += f.payload[i]!;
      this.n++;
      const mean = this.sum.map((v) => v / this.n);
      return { name: 'mean', payload: mean, shape: f.header.shape };
    });
  }
  shouldStop(): StopDecision {
    const target = Number(this.ctx.planParams.stopAfter);
    return this.n >= target ? { stop: true, reason: `converged after ${this.n} frames` } : CONTINUE;
  }
}

/** MRFM-like: collects force quadratures per (pixel, pulse) into a stack. */
export class SliceStackPipeline implements Pipeline {
  readonly name = 'stack';
  readonly version = '1';
  constructor(private readonly ctx: PipelineContext) {}
  operator(): OperatorFunction<Frame, PipelineOutput> {
    const p = this.ctx.planParams as { nx: number; ny: number; pulses: number };
    const stack = new Float64Array(p.pulses * p.nx * p.ny);
    return map((f) => {
      const { pixel, pulse } = f.header as unknown as { pixel: number; pulse: number };
      stack[pulse * p.nx * p.ny + pixel] = f.payload[0]!;
      return { name: 'stack', payload: stack.slice(), shape: [p.pulses, p.ny, p.nx], fields: { pixel, pulse } };
    });
  }
}

export function testPipelines(): PipelineRegistry {
  return new PipelineRegistry()
    .register({ name: 'dwell', version: '1', description: 'per-pixel events', create: (c) => new DwellPipeline(c) })
    .register({ name: 'grid', version: '1', description: 'adaptive grid', create: (c) => new GridPipeline(c) })
    .register({ name: 'stream', version: '1', description: 'running mean', create: (c) => new StreamPipeline(c) })
    .register({ name: 'stack', version: '1', description: 'slice stack', create: (c) => new SliceStackPipeline(c) });
}

// ---------------- plans ----------------

export interface RasterParams { nx: number; ny: number; stepNm: number; chunkMs: number; maxChunks: number; minEvents: number }
/** Shape 1: raster scan, per-pixel dwell in chunks that ends early on the stopping rule. */
export const rasterPlan: Plan<RasterParams> = {
  name: 'test-raster',
  version: '1',
  description: 'raster with early-stoppable dwell',
  roles: { scanner: { kind: 'piezo' }, correlator: { kind: 'hbt' } },
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      nx: { type: 'integer', unit: '1', minimum: 1, default: 4 },
      ny: { type: 'integer', unit: '1', minimum: 1, default: 3 },
      stepNm: { type: 'number', unit: 'nm', exclusiveMinimum: 0, default: 50 },
      chunkMs: { type: 'number', unit: 'ms', exclusiveMinimum: 0, default: 1000 },
      maxChunks: { type: 'integer', unit: '1', minimum: 1, default: 7 },
      minEvents: { type: 'integer', unit: 'counts', minimum: 1, default: 100 },
    },
  },
  pipeline: () => 'dwell',
  total: (p) => p.nx * p.ny,
  async run(ctx) {
    const p = ctx.params;
    for (let pixel = 0; pixel < p.nx * p.ny; pixel++) {
      await ctx.call('scanner', 'moveTo', { xNm: (pixel % p.nx) * p.stepNm, yNm: Math.floor(pixel / p.nx) * p.stepNm });
      ctx.mark('pixel', { pixel });
      for (;;) {
        await ctx.acquire('correlator', 'histogram', { integrationMs: p.chunkMs }, { fields: { pixel } });
        const d = await ctx.shouldStop({ pixel });
        if (d.stop) {
          ctx.mark('dwell-end', { pixel, reason: d.reason });
          break;
        }
      }
      ctx.progress(pixel + 1);
    }
  },
};

export interface GridParams { n: number; batch: number; budget: number }
/** Shape 2: a grid sampled in batches at the points the pipeline chooses. */
export const adaptiveGridPlan: Plan<GridParams> = {
  name: 'test-adaptive',
  version: '1',
  description: 'adaptive batches on a grid',
  roles: { readout: { kind: 'odmr' } },
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      n: { type: 'integer', unit: '1', minimum: 2, default: 6 },
      batch: { type: 'integer', unit: '1', minimum: 1, default: 4 },
      budget: { type: 'integer', unit: '1', minimum: 1, default: 14 },
    },
  },
  pipeline: () => 'grid',
  total: (p) => p.budget,
  async run(ctx) {
    let done = 0;
    for (;;) {
      if ((await ctx.shouldStop('session')).stop) return;
      const pts = await ctx.nextPoints<{ i: number; j: number }>(ctx.params.batch);
      if (pts.length === 0) return;
      for (const pt of pts) {
        await ctx.acquire('readout', 'measure', pt);
        ctx.progress(++done);
      }
    }
  },
};

export interface StreamParams { exposureMs: number; maxFrames: number; stopAfter: number }
/** Shape 3: a continuous frame stream, stopped by the pipeline. */
export const streamPlan: Plan<StreamParams> = {
  name: 'test-stream',
  version: '1',
  description: 'continuous camera stream',
  roles: { camera: { kind: 'camera' } },
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      exposureMs: { type: 'number', unit: 'ms', exclusiveMinimum: 0, default: 20 },
      maxFrames: { type: 'integer', unit: '1', minimum: 1, default: 1000 },
      stopAfter: { type: 'integer', unit: '1', minimum: 1, default: 25 },
    },
  },
  pipeline: () => 'stream',
  total: (p) => p.maxFrames,
  async run(ctx) {
    for (let k = 0; k < ctx.params.maxFrames; k++) {
      await ctx.acquire('camera', 'grab', { exposureMs: ctx.params.exposureMs });
      ctx.progress(k + 1);
      if ((await ctx.shouldStop('session')).stop) return;
    }
  },
};

export interface MrfmParams { nx: number; ny: number; pulses: number; fraction: number; seed: number; tauMs: number }
/** Shape 4: (x, y) scan × rf pulse table, sampled through a seeded random mask. */
export const xyRfPlan: Plan<MrfmParams> = {
  name: 'test-xy-rf',
  version: '1',
  description: '(x,y) scan × rf pulses with a sampling mask',
  roles: { scanner: { kind: 'piezo' }, rf: { kind: 'rf' }, sensor: { kind: 'force' } },
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      nx: { type: 'integer', unit: '1', minimum: 1, default: 4 },
      ny: { type: 'integer', unit: '1', minimum: 1, default: 4 },
      pulses: { type: 'integer', unit: '1', minimum: 1, default: 3 },
      fraction: { type: 'number', unit: '1', exclusiveMinimum: 0, maximum: 1, default: 0.5 },
      seed: { type: 'integer', unit: '1', default: 1 },
      tauMs: { type: 'number', unit: 'ms', exclusiveMinimum: 0, default: 10 },
    },
  },
  pipeline: () => 'stack',
  total: (p) => p.nx * p.ny,
  async run(ctx) {
    const p = ctx.params;
    const mask = sampleMask(p.nx * p.ny * p.pulses, p.fraction, p.seed);
    ctx.mark('mask', { shape: [p.pulses, p.ny, p.nx], indices: [...mask.keys()].filter((i) => mask[i]) });
    for (let pixel = 0; pixel < p.nx * p.ny; pixel++) {
      const wanted = [...Array(p.pulses).keys()].filter((k) => mask[k * p.nx * p.ny + pixel]);
      if (wanted.length === 0) continue;
      await ctx.call('scanner', 'moveTo', { xNm: (pixel % p.nx) * 40, yNm: Math.floor(pixel / p.nx) * 40 });
      for (const k of wanted) {
        await ctx.call('rf', 'setPulse', { index: k, fMHz: 100 + k });
        await ctx.acquire('sensor', 'read', { tauMs: p.tauMs }, { fields: { pixel, pulse: k } });
      }
      ctx.progress(pixel + 1);
    }
    await ctx.call('rf', 'off');
  },
};

/** Deterministic Bernoulli mask (a stand-in for the native mask kernel in tests). */
export function sampleMask(n: number, fraction: number, seed: number): Uint8Array {
  const m = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    m[i] = x / 2 ** 32 < fraction ? 1 : 0;
  }
  return m;
}

export function testPlans(): PlanRegistry {
  return new PlanRegistry().register(rasterPlan).register(adaptiveGridPlan).register(streamPlan).register(xyRfPlan);
}

export type { Driver };
