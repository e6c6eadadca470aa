/**
 * Adapts the acquisition engine (daemon/engine) to the API's ControlTarget.
 * Only names and shapes change here; the engine's EngineError codes map to
 * API error codes in errors.ts.
 */
import { filter, map, type Observable } from 'rxjs';
import type { Engine } from '../engine/engine.js';
import type { ControlTarget, DaemonStatus, LiveFrame, SessionMeta, SessionStatus } from './target.js';

/** Events that carry a new status snapshot worth pushing to subscribers (not every decision). */
const STATUS_EVENTS = new Set(['started', 'progress', 'paused', 'resumed', 'suspended', 'ended']);

export function engineTarget(engine: Engine, version: string): ControlTarget {
  const frames$: Observable<LiveFrame> = engine.frames$.pipe(map((f) => ({ session: f.sessionId, frame: f.frame })));
  const sessionEvents$: Observable<SessionStatus> = engine.events$.pipe(
    filter((e) => STATUS_EVENTS.has(e.type)),
    map((e) => e.status as unknown as SessionStatus),
  );
  return {
    status: (): DaemonStatus => {
      const s = engine.status();
      return { version, running: s.session?.id ?? null, ...s };
    },
    listInstruments: () => engine.instruments(),
    describeInstrument: (id) => engine.describeInstrument(id),
    callInstrument: (id, command, params) => engine.callInstrument(id, command, params),
    listPlans: () => engine.listPlans(),
    describePlan: (name) => engine.describePlan(name),
    async startSession(plan: string, params: Record<string, unknown>, meta?: SessionMeta, opts?: { onFault?: 'fail' | 'suspend' }) {
      const id = await engine.start(plan, params, { ...(meta ? { metadata: meta } : {}), ...(opts?.onFault ? { onFault: opts.onFault } : {}) });
      return engine.session(id) as unknown as SessionStatus;
    },
    pauseSession: async (id) => engine.pause(id) as unknown as SessionStatus,
    resumeSession: async (id) => engine.resume(id) as unknown as SessionStatus,
    abortSession: async (id) => (await engine.abort(id)) as unknown as SessionStatus,
    sessionStatus: (id) => engine.session(id) as unknown as SessionStatus,
    listSessions: () => engine.listSessionsAsync(),
    sessionFrames: (id, stream, fromSeq, toSeq, limit, maxBytes) => engine.readFrames(id, stream, fromSeq, toSeq, limit, maxBytes ?? Number.POSITIVE_INFINITY),
    sessionStreams: (id) => engine.streams(id),
    frames$,
    sessionEvents$,
  };
}
