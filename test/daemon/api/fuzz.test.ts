import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Dealer } from 'zeromq';
import { METHODS } from '../../../daemon/api/methods.js';
import { ErrorCode } from '../../../daemon/api/protocol.js';
import { client, startApi } from './helpers.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

const STATE_CHANGING = ['sessions.start', 'sessions.pause', 'sessions.resume', 'sessions.abort', 'instruments.call'];
const READ_ONLY = Object.keys(METHODS).filter((m) => !STATE_CHANGING.includes(m));

/** One malformed (or harmless) request: a list of body frames. */
const messageArb: fc.Arbitrary<Buffer[]> = fc.oneof(
  // random bytes (mostly invalid UTF-8 / JSON)
  fc.uint8Array({ maxLength: 64 }).map((b) => [Buffer.from(b)]),
  // any JSON value
  fc.jsonValue({ maxDepth: 3 }).map((v) => [Buffer.from(JSON.stringify(v) ?? 'null')]),
  // request-shaped objects with wrong types in every slot
  fc
    .record(
      {
        id: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.object({ maxDepth: 1 })),
        method: fc.oneof(fc.constantFrom(...READ_ONLY), fc.string(), fc.integer()),
        params: fc.oneof(fc.object({ maxDepth: 2 }), fc.array(fc.integer()), fc.string(), fc.constant(null)),
        extra: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    )
    .map((r) => [Buffer.from(JSON.stringify(r))]),
  // state-changing methods, always with a param the schema refuses
  fc
    .record({ id: fc.integer(), method: fc.constantFrom(...STATE_CHANGING), params: fc.object({ maxDepth: 1 }) })
    .map((r) => [Buffer.from(JSON.stringify({ ...r, params: { ...r.params, __fuzz: true } }))]),
  // wrong frame counts
  fc.array(fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)), { minLength: 2, maxLength: 4 }),
  // oversized
  fc.integer({ min: 4097, max: 6000 }).map((n) => [Buffer.alloc(n, 0x7b)]),
);

describe('fuzz: malformed requests', () => {
  it('every malformed message gets exactly one error reply; the daemon keeps serving and the session is undisturbed', async () => {
    const { server, target, endpoints } = await startApi({ maxRequestBytes: 4096 });
    cleanup.push(() => server.stop());
    const c = client(endpoints);
    cleanup.push(() => c.close());
    const session = await c.start('stream', { frames: 10_000_000, values: 8, chunk: 50 });
    const dealer = new Dealer({ linger: 0, receiveTimeout: 10_000 });
    dealer.connect(endpoints.control);
    cleanup.push(() => dealer.close());

    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(messageArb, { minLength: 20, maxLength: 40 }), async (batch) => {
        for (const frames of batch) await dealer.send(frames);
        sent += batch.length;
        for (let i = 0; i < batch.length; i++) {
          const reply = await dealer.receive();
          // The DEALER sent no delimiter unless its first frame was empty (then the reply mirrors it).
          const body = reply.at(-1)!;
          const r = JSON.parse(body.toString());
          expect(Object.keys(r).sort()).toEqual('error' in r ? ['error', 'id'] : ['id', 'result']);
          if ('error' in r) {
            expect(Number.isInteger(r.error.code)).toBe(true);
            expect(Object.values(ErrorCode)).toContain(r.error.code);
            expect(r.error.code).not.toBe(ErrorCode.INTERNAL_ERROR);
            expect(typeof r.error.message).toBe('string');
          }
        }
      }),
      { numRuns: 100, seed: 20261122 },
    );
    expect(sent).toBeGreaterThanOrEqual(2000);
    expect(sent).toBeLessThanOrEqual(10_000);

    // Still answering, and the session went on untouched.
    const status = await c.session(session.id);
    expect(status.state).toBe('running');
    expect(target.stage.moves).toBe(0);
    expect((await c.abort()).state).toBe('aborted');
    const rec = target.recorded(session.id, 'stage0.signal0');
    expect(rec.every((f, i) => f.header.seq === i)).toBe(true);
    expect((await c.sessions()).map((s) => s.id)).toEqual([session.id]);
  });
});
