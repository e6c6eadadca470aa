// Crash-test child: records a session as fast as it can and reports every
// commit on stdout (`committed N`), until the parent SIGKILLs it.
// Usage: node crash-child.mjs DIR ID DURABILITY
import { SessionStore } from '../../../dist/daemon/store/index.js';

const [dir, id, durability] = process.argv.slice(2);
const store = new SessionStore(dir, { durability, checkpointIntervalMs: 20, limits: { maxQueueBytes: 1 << 22, maxQueueItems: 2000, batchItems: 101, minFreeBytes: 1, diskCheckEveryBytes: 1 << 20 } });
const { writer } = store.create({ id, plan: 'crash-test', params: {}, config: {}, softwareVersion: 'test', instruments: {}, clock: 'virtual' });
writer.onCommit = (c) => process.stdout.write(`committed ${c.frames}\n`);
let seq = 0;
function produce() {
  for (let k = 0; k < 53 && seq < 200_000; k++, seq++) {
    const h = new Uint32Array(215);
    for (let i = 0; i < 215; i++) h[i] = (seq * 2654435761 + i) >>> 0;
    writer.append({ header: { stream: 'hbt0.histogram', seq, t: seq * 1000, dtype: 'u32', shape: [215], pixel: seq % 7 }, payload: h }, 'instrument');
    if (seq % 10 === 0) writer.event(seq * 1000, 'mark', 'plan', { seq });
  }
  if (seq >= 200_000) {
    process.stdout.write('exhausted\n');
    return;
  }
  if (writer.full) writer.drained().then(() => setImmediate(produce));
  else setImmediate(produce);
}
produce();
