/**
 * Crash test: a child process records a session and is SIGKILLed after a
 * seeded, varying number of committed frames; every database must then pass
 * integrity_check, hold a gap-free prefix of the frames sent that includes
 * every frame reported committed, and reopen as `interrupted`.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../drivers/core/rng.js';
import { SessionStore } from '../../../daemon/store/store.js';
import { tmpDir } from '../engine/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'crash-child.mjs');
const RUNS = 20;

let tmp: ReturnType<typeof tmpDir>;
beforeAll(() => {
  tmp = tmpDir('qscope-crash-');
  if (!existsSync(join(here, '../../../dist/daemon/store/index.js'))) throw new Error('dist/ missing: run `npx tsc -p tsconfig.json` (the crash child runs the built store)');
});
afterAll(() => tmp.cleanup());

/** Runs one child until it reports ≥ target committed frames, then SIGKILLs it. Resolves with the last count it reported. */
function recordAndKill(id: string, target: number, durability: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, tmp.dir, id, durability], { stdio: ['ignore', 'pipe', 'pipe'] });
    let reported = 0;
    let killed = false;
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    createInterface({ input: p.stdout }).on('line', (line) => {
      if (line === 'exhausted') {
        if (!killed) p.kill('SIGKILL');
        killed = true;
        return;
      }
      const n = Number(line.split(' ')[1]);
      if (!killed) reported = n;
      if (!killed && n >= target) {
        killed = true;
        p.kill('SIGKILL');
      }
    });
    p.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(reported);
      else reject(new Error(`child exited with ${code} before being killed: ${stderr}`));
    });
  });
}

describe('crash: SIGKILL while recording', () => {
  it(`${RUNS} killed recordings are intact, gap-free prefixes including every reported commit, and reopen as interrupted`, async () => {
    const rng = new Rng(20261122);
    const store = new SessionStore(tmp.dir);
    const runs = Array.from({ length: RUNS }, (_, run) => ({ id: `crash-${String(run).padStart(2, '0')}`, target: 1 + rng.int(1200), durability: run % 2 ? 'full' : 'normal' }));
    // Four children at a time: each spends most of its life starting Node.
    const reported = new Map<string, number>();
    for (let i = 0; i < runs.length; i += 4) {
      const group = runs.slice(i, i + 4);
      const counts = await Promise.all(group.map((r) => recordAndKill(r.id, r.target, r.durability)));
      group.forEach((r, k) => reported.set(r.id, counts[k]!));
    }
    for (const { id, target } of runs) {
      const committed = reported.get(id)!;
      expect(committed).toBeGreaterThanOrEqual(Math.min(target, 1));
      const r = store.open(id, { verify: true });
      try {
        expect(r.integrity()).toBe('ok');
        expect(r.session().status).toBe('interrupted');
        const seqs: number[] = [];
        for (const f of r.frames('frames', 'hbt0.histogram')) {
          const seq = f.header.seq;
          seqs.push(seq);
          expect(f.header).toMatchObject({ t: seq * 1000, dtype: 'u32', shape: [215], pixel: seq % 7 });
          expect(f.payload[0]).toBe((seq * 2654435761) >>> 0);
          expect(f.payload[214]).toBe((seq * 2654435761 + 214) >>> 0);
        }
        expect(seqs.length).toBeGreaterThanOrEqual(committed);
        expect(seqs.every((s, i) => s === i)).toBe(true);
      } finally {
        r.close();
      }
      // Reopening again keeps it interrupted and readable.
      const again = store.open(id);
      expect(again.session().status).toBe('interrupted');
      again.close();
    }
    // The kill points really vary.
    expect(new Set(reported.values()).size).toBeGreaterThan(RUNS / 2);
  });
});
