// `npm run bench -- ptu`: `qscope convert ptu` throughput (runs from dist/: `npm run build:ts` first).
//  A HydraHarp v2 T2 file synthesised here: two detectors at 1 Mcount/s each for 5 s (10 M records, 40 MB),
//  1 ps ticks, overflow records where the 25-bit time field wraps.
//  Cases: decode only (RecordDecoder, counting sink); the whole conversion (two passes + all-pairs histograms,
//  215 bins over 500 ns, 1 s windows, writes the dataset). Alternative: NumPy's vectorised decode of the same
//  records (np.frombuffer, bit masks, cumsum of overflows), when python3 with numpy is present.
// Medians of 3 runs after 1 warm-up. Prints one JSON object per case.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHeader, RecordDecoder } from '../../dist/pipelines/antibunching/ptu/format.js';
import { convertPtu, DEFAULT_PTU_OPTIONS } from '../../dist/pipelines/antibunching/ptu/convert.js';

const tmp = mkdtempSync(join(tmpdir(), 'qscope-ptu-bench-'));
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function tag(ident, type, value) {
  const b = Buffer.alloc(48);
  b.write(ident, 0, 'latin1');
  b.writeInt32LE(-1, 32);
  b.writeUInt32LE(type, 36);
  if (type === 0x20000008) b.writeDoubleLE(value, 40);
  else b.writeBigInt64LE(BigInt(value), 40);
  return b;
}

function synthesise(seconds, ratePerS) {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) + 0.5) / 4294967296;
  const words = [];
  let t = 0;
  let ofl = 0;
  const end = seconds * 1e12;
  const meanGap = 1e12 / (2 * ratePerS);
  for (;;) {
    t += Math.floor(-Math.log(rnd()) * meanGap);
    if (t >= end) break;
    while (t - ofl >= 33554432) {
      const n = Math.min(33554431, Math.floor((t - ofl) / 33554432));
      words.push(((1 << 31) | (63 << 25) | n) >>> 0);
      ofl += n * 33554432;
    }
    words.push(((rnd() < 0.5 ? 0 : 1) << 25) | (t - ofl));
  }
  const recs = Uint32Array.from(words);
  const head = Buffer.concat([
    Buffer.from('PQTTTR\0\x001.0.00\0\0', 'latin1'),
    tag('TTResultFormat_TTTRRecType', 0x10000008, 0x01010204),
    tag('TTResult_NumberOfRecords', 0x10000008, recs.length),
    tag('MeasDesc_GlobalResolution', 0x20000008, 1e-12),
    tag('MeasDesc_AcquisitionTime', 0x10000008, seconds * 1000),
    tag('Header_End', 0xffff0008, 0),
  ]);
  const file = join(tmp, 'bench.ptu');
  writeFileSync(file, Buffer.concat([head, Buffer.from(recs.buffer)]));
  return { file, records: recs.length };
}

const { file, records } = synthesise(5, 1e6);
const bytes = readFileSync(file);
const h = parseHeader(bytes, file);
const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset + h.dataOffset));

function time(fn, runs = 3) {
  fn();
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    xs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(xs);
}

const decodeS = time(() => {
  let n = 0;
  new RecordDecoder(h).decode(words, { photon: () => n++, marker: () => n++ });
});
console.log(JSON.stringify({ case: 'decode (RecordDecoder, counting sink)', records, seconds: +decodeS.toFixed(3), mRecordsPerS: +(records / decodeS / 1e6).toFixed(1) }));

let k = 0;
const convertS = time(() => convertPtu(file, join(tmp, `out${k++}`), DEFAULT_PTU_OPTIONS));
console.log(JSON.stringify({ case: 'convert ptu (2 passes, all-pairs 215 bins / 500 ns, 1 s windows, write)', records, seconds: +convertS.toFixed(3), mRecordsPerS: +(records / convertS / 1e6).toFixed(1) }));

const py = `
import sys, time, numpy as np
d = open(sys.argv[1], 'rb').read(); off = int(sys.argv[2]); n = int(sys.argv[3])
def run():
    w = np.frombuffer(d, dtype='<u4', count=n, offset=off).astype(np.int64)
    sp, ch, tm = w >> 31, (w >> 25) & 63, w & 0x1FFFFFF
    ovf = (sp == 1) & (ch == 63)
    ofl = np.cumsum(np.where(ovf, np.where(tm == 0, 1, tm), 0)) * 33554432
    t = (ofl + tm)[sp == 0] * 1.0
    return t
run(); xs = []
for _ in range(3):
    t0 = time.perf_counter(); run(); xs.append(time.perf_counter() - t0)
print(sorted(xs)[1])
`;
try {
  const s = Number(execFileSync('python3', ['-c', py, file, String(h.dataOffset), String(records)]).toString());
  console.log(JSON.stringify({ case: 'alternative: NumPy vectorised decode', records, seconds: +s.toFixed(3), mRecordsPerS: +(records / s / 1e6).toFixed(1), oursOverNumpy: +(s / decodeS).toFixed(2) }));
} catch {
  console.log(JSON.stringify({ case: 'alternative: NumPy vectorised decode', skipped: 'python3 with numpy not found' }));
}
rmSync(tmp, { recursive: true, force: true });
