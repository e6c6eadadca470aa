// `npm run bench -- domains`: the domain-imaging paper's Tables 1–2 on held-out annealed textures
// (held-out seeds 4…, never used in training or validation), cross-feeding, noise response, and timing
// (native annealer vs a NumPy implementation of the same sweep, wasm training throughput, inference per
// 128² frame, one fine-tuning step on 16 frames). Needs `npm run build` and the committed models
// (pipelines/domains/model/). Prints one JSON object per case, then markdown tables for docs/BENCHMARKS.md.
// Options (env): DOMAINS_BENCH_TEXTURES (default 4 per type), DOMAINS_TEXTURE_CACHE (default
// train-runs/domains/textures), DOMAINS_BENCH_FINETUNE (fine-tuning steps on the test frames, default 30).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { HELDOUT_SEED_BASE, seedRange, textureSet, TEXTURE_SCHEDULE } from '../../dist/pipelines/domains/textures.js';
import { lrFrame, hrTruth } from '../../dist/pipelines/domains/data.js';
import { upsample, BASELINES } from '../../dist/pipelines/domains/baselines.js';
import { InProcessSr } from '../../dist/pipelines/domains/sr-runner.js';
import { bestModel, listModels, loadSrModel } from '../../dist/pipelines/domains/model-io.js';
import { defaultSrConfig } from '../../dist/pipelines/domains/srnet.js';
import { mse, psnr, spinCorrelation } from '../../dist/pipelines/core/metrics.js';
import { annealSpins } from '../../dist/native/index.js';
import { Rng } from '../../dist/drivers/core/rng.js';

const K = Number(process.env.DOMAINS_BENCH_TEXTURES ?? 4);
const CACHE = process.env.DOMAINS_TEXTURE_CACHE ?? 'train-runs/domains/textures';
const FT = Number(process.env.DOMAINS_BENCH_FINETUNE ?? 30);
const N = 128, C = 3;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = (o) => console.log(JSON.stringify(o));
const fmt = (v, d = 2) => (v === undefined ? '—' : v.toFixed(d));

const textures = {};
for (const type of [1, 2]) textures[type] = await textureSet(type, seedRange(HELDOUT_SEED_BASE[type] + 4, K), { cacheDir: CACHE });
const sets = (type, f, noise = 0, seed = 1) => {
  const rng = new Rng(seed);
  return { lr: textures[type].map((t) => lrFrame(t, N, f, C, [0, 0], noise, rng)), hr: textures[type].map((t) => hrTruth(t, N, C)) };
};
const score = (outs, hr) => ({ mse: mean(outs.map((x, i) => mse(x, hr[i]))), psnr: mean(outs.map((x, i) => psnr(x, hr[i], 2))), corr: mean(outs.map((x, i) => spinCorrelation(x, hr[i], C))) });

const sr = await InProcessSr.create();
async function srScores(modelDir, set, f, finetune) {
  await sr.load({ modelDir, config: defaultSrConfig(f, C), seed: 1, lr: 0.001 });
  const a = N / f;
  const pre = score((await sr.predict(set.lr, a)).sr, set.hr);
  if (!finetune) return { pre };
  await sr.finetune(set.lr, a, finetune, Math.min(8, set.lr.length), 1);
  return { pre, ft: score((await sr.predict(set.lr, a)).sr, set.hr) };
}

// ---- Tables 1–2 ----
const table = [];
for (const type of [1, 2])
  for (const f of [4, 8, 16]) {
    const set = sets(type, f);
    const row = { type, factor: f, unresolved: type === 1 && (2 * Math.PI) / Math.atan(0.3) < 2 * f };
    for (const m of BASELINES) row[m] = score(set.lr.map((x) => upsample(m, x, N / f, f, C)), set.hr);
    const model = bestModel(f, C, type);
    if (model && model.name === `type${type}-x${f}-c${C}`) {
      const s = await srScores(model.dir, set, f, FT);
      row.sr = s.pre;
      row.srFinetuned = s.ft;
    }
    out({ case: 'table', ...row });
    table.push(row);
  }

// ---- Cross-feeding (×8): Net I on Type II and vice versa ----
const cross = [];
const models = listModels();
for (const [net, data] of [[1, 2], [2, 1], [1, 1], [2, 2]]) {
  const dir = models.get(`type${net}-x8-c3`);
  if (!dir) continue;
  const s = await srScores(dir, sets(data, 8), 8, 0);
  const r = { net, data, ...s.pre };
  out({ case: 'cross', ...r });
  cross.push(r);
}

// ---- Noise response (Type II ×8) ----
const noise = [];
const m2 = models.get('type2-x8-c3');
for (const sigma of [0, 0.05, 0.1, 0.2]) {
  const set = sets(2, 8, sigma, 7);
  const r = { sigma, bicubic: score(set.lr.map((x) => upsample('bicubic', x, 16, 8, C)), set.hr) };
  if (m2) r.sr = (await srScores(m2, set, 8, 0)).pre;
  out({ case: 'noise', ...r });
  noise.push(r);
}

// ---- Timing ----
// Median wall time and median CPU time of this process (user + system) per call, ms. The CPU time is what
// the call costs on a core of its own: on the shared machine the wall time also counts other jobs' turns.
const timeBoth = async (fn, reps) => {
  await fn();
  const wall = [], cpu = [];
  for (let i = 0; i < reps; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await fn();
    wall.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
};
const time = async (fn, reps) => (await timeBoth(fn, reps)).wall;
// Annealer: ms per Metropolis sweep of a 128² Type I lattice, native vs NumPy (checkerboard, vectorised).
const SWEEPS = 20;
const nativeMs = (await time(() => annealSpins({ type: 1, n: N }, { sweeps: SWEEPS, alignSweeps: 0, seed: 3 }), 3)) / SWEEPS;
const nativeMs2 = (await time(() => annealSpins({ type: 2, n: N }, { sweeps: SWEEPS, alignSweeps: 0, seed: 3 }), 3)) / SWEEPS;
const py = `
import numpy as np, time
n=${N}; J=1.0; D=0.3; rng=np.random.default_rng(3)
S=rng.normal(size=(n,n,3)); S/=np.linalg.norm(S,axis=2,keepdims=True)
yy,xx=np.indices((n,n)); masks=[((yy+xx)%2)==c for c in (0,1)]
def field(S):
    e=np.roll(S,-1,1); w=np.roll(S,1,1); so=np.roll(S,-1,0); no=np.roll(S,1,0)
    h=J*(e+w+so+no)
    h[...,0]+=D*(e[...,2]-w[...,2]); h[...,2]-=D*(e[...,0]-w[...,0])
    h[...,1]-=D*(no[...,2]-so[...,2]); h[...,2]+=D*(no[...,1]-so[...,1])
    return h
def sweep(S,T,sigma):
    for m in masks:
        h=field(S); t=S+sigma*rng.normal(size=S.shape); t/=np.linalg.norm(t,axis=2,keepdims=True)
        dE=-np.sum((t-S)*h,axis=2); acc=(dE<=0)|(rng.random((n,n))<np.exp(-np.clip(dE,0,None)/T))
        S[m&acc]=t[m&acc]
    return S
sweep(S,1.0,0.5)
ts=[]
for r in range(3):
    t=time.perf_counter()
    for k in range(${SWEEPS}): sweep(S,1.0,0.5)
    ts.append((time.perf_counter()-t)/${SWEEPS}*1000)
print(sorted(ts)[1])
`;
const p = spawnSync('python3', ['-c', py], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
const numpyMs = p.status === 0 ? Number(p.stdout.trim()) : undefined;
out({ case: 'annealer', nativeMsPerSweepType1: nativeMs, nativeMsPerSweepType2: nativeMs2, numpyMsPerSweepType1: numpyMs, speedup: numpyMs ? numpyMs / nativeMs : undefined, numpyError: p.status === 0 ? undefined : p.stderr.slice(0, 200) });

// wasm: training throughput (×8, the committed config, 64² crops, batch 8), inference per 128² frame,
// one fine-tuning step on 16 frames of 16².
const timing = {};
const dir8 = m2 ?? models.get('type1-x8-c3');
if (dir8) {
  const cfg = loadSrModel(sr.tf, dir8).json.config;
  await sr.load({ config: cfg, seed: 1, lr: 0.001 });
  const crops = Array.from({ length: 8 }, () => new Float32Array(8 * 8 * C).map(() => Math.random() * 2 - 1));
  const trainMs = await timeBoth(() => sr.finetune(crops, 8, 1, 8, 1), 5);
  timing.trainSamplesPerS = 8 / (trainMs.wall / 1000);
  timing.trainSamplesPerCpuS = 8 / (trainMs.cpu / 1000);
  const frame = [sets(2, 8).lr[0]];
  timing.inference = await timeBoth(() => sr.predict(frame, 16), 5);
  const sixteen = Array.from({ length: 16 }, (_, i) => sets(2, 8).lr[i % K]);
  timing.finetune16 = await timeBoth(() => sr.finetune(sixteen, 16, 1, 16, 1), 5);
  out({ case: 'timing', ...timing, config: cfg });
}
await sr.close();

// ---- markdown ----
const cell = (s) => (s ? `${fmt(s.mse, 4)} / ${fmt(s.psnr)} / ${fmt(s.corr, 3)}` : 'not trained');
console.log(`\n### Tables 1–2: held-out textures (${K} per type, 128², SPLEEM C = 3, noise-free LR) — MSE / PSNR dB (MAX 2) / Corr\n`);
console.log('| type | ×f | bilinear | bicubic | gaussian | SR pre-trained | SR + fine-tune (' + FT + ' steps) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of table) console.log(`| ${r.type === 1 ? 'I' : 'II'} | ${r.factor}${r.unresolved ? ' (unresolved)' : ''} | ${cell(r.bilinear)} | ${cell(r.bicubic)} | ${cell(r.gaussian)} | ${cell(r.sr)} | ${cell(r.srFinetuned)} |`);
console.log('\n### Cross-feeding (×8) — MSE / PSNR / Corr\n\n| net | data | SR |\n|---|---|---|');
for (const r of cross) console.log(`| Net ${r.net === 1 ? 'I' : 'II'} | Type ${r.data === 1 ? 'I' : 'II'} | ${cell(r)} |`);
console.log('\n### Noise response (Type II ×8, LR noise σ) — PSNR dB / Corr\n\n| σ | bicubic | SR |\n|---|---|---|');
for (const r of noise) console.log(`| ${r.sigma} | ${fmt(r.bicubic.psnr)} / ${fmt(r.bicubic.corr, 3)} | ${r.sr ? `${fmt(r.sr.psnr)} / ${fmt(r.sr.corr, 3)}` : '—'} |`);
console.log(`\n### Timing (median)\n\n| what | value | goal |\n|---|---|---|`);
console.log(`| annealer, 128² Type I, ms per sweep: native / NumPy | ${fmt(nativeMs)} / ${fmt(numpyMs)} (${numpyMs ? fmt(numpyMs / nativeMs, 1) : '—'}×) | ≥ 20× |`);
console.log(`| annealer, 128² Type II (2 FFT dipolar convolutions per sweep), ms per sweep | ${fmt(nativeMs2)} | — |`);
if (dir8) {
  console.log(`| training throughput on wasm (×8, 64² crops, batch 8), samples/s: wall / CPU | ${fmt(timing.trainSamplesPerS)} / ${fmt(timing.trainSamplesPerCpuS)} | — |`);
  console.log(`| inference per 128² frame (×8 from 16²), ms: wall / CPU | ${fmt(timing.inference.wall, 1)} / ${fmt(timing.inference.cpu, 1)} | < 50 |`);
  console.log(`| one fine-tuning step on 16 frames (16² → 128²), ms: wall / CPU | ${fmt(timing.finetune16.wall, 0)} / ${fmt(timing.finetune16.cpu, 0)} | < 300 |`);
}
console.log(`\nLoad average at the end of the run: ${os.loadavg().map((v) => v.toFixed(1)).join(', ')} (${os.cpus().length} cores).`);
console.log(`\nTexture schedule: ${JSON.stringify(TEXTURE_SCHEDULE)}.`);
