/**
 * `qscope replay`: re-runs a recorded session with the replay source standing
 * in for the simulated world, re-runs the pipeline, follows the recorded
 * adaptive decisions while comparing them with the pipeline's fresh choices,
 * records the replay as a new session naming its source, and compares its
 * results with the recorded ones bit for bit.
 */
import { ScaledClock, VirtualClock, type Clock } from '../../drivers/core/clock.js';
import type { Driver } from '../../drivers/core/driver.js';
import type { DriverRegistry, InstrumentConfig } from '../../drivers/core/registry.js';
import { ReplayDriver } from '../../drivers/replay/driver.js';
import { ReplaySource } from '../../drivers/replay/source.js';
import type { PipelineRegistry } from '../../pipelines/core/pipeline.js';
import { PlanRegistry } from '../plans/index.js';
import type { Plan } from '../../pipelines/core/plan.js';
import type { SessionReader } from '../store/reader.js';
import type { SessionStore } from '../store/store.js';
import type { SessionStatus } from './api.js';
import { Engine, type EngineLogger } from './engine.js';
import { EngineError } from './errors.js';
import { PROCESSING_LATENCY_FIELD, type RecordedDecision } from './session.js';

export type ReplaySpeed = 'max' | 'realtime' | number;

/** `realtime` | `max` | a positive factor. */
export function parseSpeed(s: string): ReplaySpeed {
  if (s === 'max' || s === 'realtime') return s;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--speed: must be realtime, max or a number > 0, got '${s}'`);
  return n;
}

export function clockFor(speed: ReplaySpeed): Clock {
  if (speed === 'max') return new VirtualClock();
  return new ScaledClock(speed === 'realtime' ? 1 : speed);
}

/** The generic plan for sessions whose own plan or instruments are not available: every frame in recorded order. */
export const REPLAY_FRAMES_PLAN: Plan<Record<string, unknown>> = {
  name: 'replay-frames',
  version: '1',
  description: 'plays every recorded frame back in recording order',
  roles: { source: { kind: 'replay' } },
  params: { type: 'object', additionalProperties: false, properties: {} },
  async run(ctx) {
    let n = 0;
    for (;;) {
      await ctx.acquire('source', 'next');
      ctx.progress(++n);
    }
  },
};

export interface ReplayOptions {
  /** Session id (in `sourceStore`) or path of the recording. */
  source: string;
  sourceStore: SessionStore;
  /** Where the replay's own session is recorded. */
  store: SessionStore;
  registry: DriverRegistry;
  plans: PlanRegistry;
  pipelines: PipelineRegistry;
  speed: ReplaySpeed;
  /** Use this pipeline instead of the recorded one. */
  pipeline?: string;
  /** Force the generic frame-by-frame replay even when the plan is available. */
  framesOnly?: boolean;
  log?: EngineLogger;
  softwareVersion?: string;
  /** Called once the replay engine exists (progress bars, tests). */
  onEngine?: (engine: Engine, id: string) => void;
}

export interface Comparison {
  identical: boolean;
  compared: number;
  /** First differences, in words. */
  differences: string[];
}

export interface ReplayReport {
  id: string;
  sourceId: string;
  mode: 'plan' | 'frames';
  status: SessionStatus;
  /** Measurements the replay source served from the recording (none computed live). */
  delivered: number;
  mismatches: { kind: string; arg: unknown; recorded: unknown; fresh: unknown }[];
  /** Results of the replay vs the recorded results (when the same pipeline ran). */
  results: Comparison;
  /** Instrument frames of the replay vs the recording. */
  frames: Comparison;
  /**
   * What differs between the recording and the replay in what bit-identity depends on (pipeline and its
   * version, tfjs backend, model hashes); empty when they match.
   */
  environment: string[];
  /** Wall time of the replay itself and of the comparison, ms (for benchmarks; never used by tests). */
  wallMs: { replay: number; compare: number };
}

/** Compares two recordings' frames (or results) stream by stream: headers and payload bytes. */
export function compareRecordings(a: SessionReader, b: SessionReader, table: 'frames' | 'results', limit = 20): Comparison {
  const differences: string[] = [];
  const streamsA = a.streams().filter((s) => (table === 'frames' ? s.kind === 'instrument' : s.kind === 'result'));
  const streamsB = new Map(b.streams().map((s) => [s.name, s]));
  let compared = 0;
  for (const s of streamsA) {
    const other = streamsB.get(s.name);
    if (!other) {
      differences.push(`${s.name}: missing in the replay`);
      continue;
    }
    if (other.count !== s.count) differences.push(`${s.name}: ${s.count} recorded, ${other.count} replayed`);
    // Stored rows are compared as stored (header JSON text, t, payload bytes): no decoding on the common path.
    const itB = b.rawFrames(table, s.name)[Symbol.iterator]();
    for (const fa of a.rawFrames(table, s.name)) {
      const nb = itB.next();
      if (nb.done) break;
      compared++;
      const d = rowDifference(fa, nb.value);
      if (d && differences.length < limit) differences.push(`${s.name}#${fa.seq}: ${d}`);
    }
    itB.return?.(undefined);
  }
  for (const name of streamsB.keys()) if (!streamsA.some((s) => s.name === name) && (streamsB.get(name)!.kind === (table === 'frames' ? 'instrument' : 'result'))) differences.push(`${name}: only in the replay`);
  return { identical: differences.length === 0, compared, differences };
}

/** Header without the fields that describe the run, not the data (the processing latency): never compared. */
function comparableHeader(text: string): string {
  const h = JSON.parse(text) as Record<string, unknown>;
  delete h[PROCESSING_LATENCY_FIELD];
  return JSON.stringify(h);
}

type StoredRow = { seq: number; t: number; header: string; payload: Buffer };

function rowDifference(a: StoredRow, b: StoredRow): string | undefined {
  if (a.seq !== b.seq) return `seq ${a.seq} ≠ ${b.seq}`;
  if (a.t !== b.t) return `t ${a.t} ≠ ${b.t}`;
  if (a.header !== b.header) {
    const ha = comparableHeader(a.header);
    const hb = comparableHeader(b.header);
    if (ha !== hb) return `header ${ha} ≠ ${hb}`;
  }
  if (a.payload.byteLength !== b.payload.byteLength) return `payload ${a.payload.byteLength} ≠ ${b.payload.byteLength} bytes`;
  if (a.payload.equals(b.payload)) return undefined;
  for (let i = 0; i < a.payload.byteLength; i++) if (a.payload[i] !== b.payload[i]) return `payload differs from byte ${i}`;
  return undefined;
}

/** Runs a replay to its end. Validates the source before anything is created. */
export async function replaySession(o: ReplayOptions): Promise<ReplayReport> {
  const reader = o.sourceStore.open(o.source, { verify: true });
  try {
    const row = reader.session();
    if (row.status === 'running') throw new EngineError('BAD_STATE', `${reader.path}: session ${row.id} is still being recorded`);
    const clock = clockFor(o.speed);
    const config = row.config as { rig?: { seed?: number }; scene?: Record<string, unknown>; instruments?: Record<string, InstrumentConfig> };
    const source = new ReplaySource(reader, { seed: Number.isInteger(config.rig?.seed) ? config.rig!.seed! : 0, clock, ...(config.scene ? { scene: config.scene } : {}) });

    const canRunPlan = !o.framesOnly && o.plans.has(row.plan) && config.instruments !== undefined && Object.values(config.instruments).every((c) => typeof c === 'object' && c !== null && o.registry.get(c.kind, c.impl));
    let drivers: Map<string, Driver>;
    let plans: PlanRegistry;
    let planName: string;
    let params: Record<string, unknown>;
    let instruments: Record<string, string> | undefined;
    if (canRunPlan) {
      // The recorded config is input like any other (an imported manifest carries whatever it likes): the same
      // instrument schemas as a live config, size bounds included, before anything is built.
      const { ConfigValidator } = await import('../config.js');
      const checked = new ConfigValidator(o.registry).validateInstruments(structuredClone(config.instruments), `${reader.path} (recorded config)`);
      drivers = await o.registry.build(checked, { clock, world: source });
      plans = o.plans;
      planName = row.plan;
      params = row.params;
      instruments = row.instruments;
    } else {
      drivers = new Map<string, Driver>([['replay', new ReplayDriver('replay', clock, source)]]);
      plans = new PlanRegistry().register(REPLAY_FRAMES_PLAN);
      planName = REPLAY_FRAMES_PLAN.name;
      params = {};
    }
    for (const d of drivers.values()) await d.connect();

    const wallStart = performance.now();
    const decisions: RecordedDecision[] = canRunPlan ? reader.events('decision').map((e) => e.data as RecordedDecision) : [];
    const replies = new Map<string, { command: string; result?: unknown }[]>();
    if (canRunPlan) {
      for (const e of reader.events('reply')) {
        const q = replies.get(e.source ?? '') ?? [];
        q.push(e.data as { command: string; result?: unknown });
        replies.set(e.source ?? '', q);
      }
    }
    const reply = (instrument: string, command: string) => {
      const q = replies.get(instrument);
      if (q && q.length && q[0]!.command === command) return q.shift()!;
      return undefined;
    };
    const pipeline = o.pipeline ?? row.pipeline ?? undefined;
    const engine = new Engine({
      clock,
      drivers,
      plans,
      pipelines: o.pipelines,
      store: o.store,
      config: row.config,
      softwareVersion: o.softwareVersion ?? row.softwareVersion,
      ...(o.log ? { log: o.log } : {}),
    });
    const id = await engine.start(
      planName,
      params,
      {
        ...(instruments ? { instruments } : {}),
        ...(pipeline ? { pipeline } : {}),
        pipelineParams: row.params,
        metadata: { ...(row.metadata as object), notes: `replay of ${row.id}${o.pipeline ? ` with pipeline ${o.pipeline}` : ''}` },
      },
      { sourceId: row.id, decisions, recordedT: (s) => source.recordedT(s), reply },
    );
    o.onEngine?.(engine, id);
    const status = await engine.whenEnded(id);
    const replayMs = performance.now() - wallStart;
    // Nothing may still write to the store's folder when the caller gets the report (it may remove it).
    await engine.whenClosed(id);
    for (const d of drivers.values()) await d.disconnect().catch(() => undefined);

    const replayed = o.store.open(id);
    try {
      const mismatches = replayed.events('mismatch').map((e) => e.data as ReplayReport['mismatches'][number]);
      const samePipeline = !o.pipeline || o.pipeline === row.pipeline;
      const now = replayed.session();
      const environment: string[] = [];
      const same = (what: string, a: unknown, b: unknown) => {
        if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) environment.push(`${what}: recorded ${JSON.stringify(a ?? null)}, replay ${JSON.stringify(b ?? null)}`);
      };
      same('pipeline', row.pipeline, now.pipeline);
      same('pipeline version', row.pipelineVersion, now.pipelineVersion);
      same('tfjs backend', row.tfBackend, now.tfBackend);
      same('model hashes', row.modelHashes, now.modelHashes);
      const compareStart = performance.now();
      const results = samePipeline ? compareRecordings(reader, replayed, 'results') : { identical: false, compared: 0, differences: ['a different pipeline ran: results not compared'] };
      const frames = compareRecordings(reader, replayed, 'frames');
      return {
        id,
        sourceId: row.id,
        mode: canRunPlan ? 'plan' : 'frames',
        status,
        delivered: source.delivered,
        mismatches,
        results,
        frames,
        environment,
        wallMs: { replay: replayMs, compare: performance.now() - compareStart },
      };
    } finally {
      replayed.close();
    }
  } finally {
    reader.close();
  }
}
