// `npm run bench -- g2`: the paper's comparison, honestly (issue 7). Needs `npm run build` first.
// A. Per-histogram g2(0) on held-out emitters (never in the CNN's training set): MAPE, r², RMSE of
//    LM (full model), shape-fixed Poisson ML and the CNN on 5, 6, 7 s histograms, beside the CRB.
// B. Default scene, 32×32: acquisition time and G2/PL FWHM for early-stopped pooled estimation,
//    CNN at a fixed 7 s per pixel, LM at 60 s per pixel.
// C. Two-emitter preset: are they resolved in PL and in G2?
// D. CNN inference time for a 32×32 scan's worth of histograms (worker thread, wasm).
// E. A shifted scene (issue 18, point 8): two emitters far apart, brighter background, longer lifetimes, a
//    wider PSF. G2 FWHM (local fit around the brightest emitter) vs the ideal PSF/√2, with the pooling kernel
//    sized as the pipeline does (local PSF fit) and as it did (one Gaussian fitted to the whole PL map).
// Options: G2_BENCH_SOURCES (default 60), G2_BENCH_SEEDS (default 3), G2_BENCH_QUICK=1,
//          G2_BENCH_ONLY=ABCD (the cases to run, default all).
import { Rng } from '../../dist/drivers/core/rng.js';
import { VirtualClock } from '../../dist/drivers/core/clock.js';
import { SimWorld } from '../../dist/drivers/core/world.js';
import { SimulatedHbt } from '../../dist/drivers/hbt/sim.js';
import { PAPER_GEOMETRY as G, binnedDeficit, expectedHistogram, samplePoissonHistogram, threeLevelFromG0 } from '../../dist/drivers/hbt/model.js';
import { makeSources, heldOutRng, DEFAULT_CORRELATOR } from '../../dist/pipelines/antibunching/dataset.js';
import { calibrate } from '../../dist/pipelines/antibunching/calibration.js';
import { shapeFixedFitter } from '../../dist/pipelines/antibunching/shape-fixed-ml.js';
import { fitThreeLevel } from '../../dist/pipelines/antibunching/three-level-fit.js';
import { shapeVector } from '../../dist/pipelines/antibunching/shape.js';
import { crbShapeKnown } from '../../dist/pipelines/antibunching/crb.js';
import { CnnClient } from '../../dist/pipelines/antibunching/cnn-client.js';
import { mape, rSquared, rmse, twoPeakDip } from '../../dist/pipelines/core/metrics.js';
import { accumulate, DEFAULT_RECONSTRUCT } from '../../dist/pipelines/antibunching/reconstruct.js';
import { estimateMaps, imageFwhm, localPsfFwhm, plPsfFwhmNm, poolKernelSigmaPx } from '../../dist/pipelines/antibunching/scan.js';

const quick = process.env.G2_BENCH_QUICK === '1';
const nSources = Number(process.env.G2_BENCH_SOURCES ?? (quick ? 15 : 60));
const nSeeds = Number(process.env.G2_BENCH_SEEDS ?? (quick ? 1 : 3));
const only = process.env.G2_BENCH_ONLY ?? 'ABCDE';
const want = (c) => only.includes(c);
const out = (o) => console.log(JSON.stringify(o));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cnn = want('A') || want('B') || want('D') ? new CnnClient() : undefined;
await cnn?.ready;

// ---------- A. per-histogram, held-out emitters ----------
if (want('A')) {
  const rng = heldOutRng(7); // the held-out stream of the training seed: emitters never trained on
  const sources = makeSources(rng, nSources, { seconds: 35, offPeakFraction: 0 });
  const calRng = new Rng(99);
  const fitters = sources.map((s) => {
    // The shape-fixed fit's calibration: a 600 s acquisition on the same emitter, fitted with LM.
    const cal = samplePoissonHistogram(calRng, s.expected.map((x) => x * 600), new Float64Array(G.bins));
    return shapeFixedFitter(calibrate(cal, s.rateCps * 600, 600, G).shape);
  });
  for (const k of [5, 6, 7]) {
    const truth = [];
    const est = { lm: [], 'shape-fixed-ml': [], cnn: [] };
    const crb2 = [];
    const events = [];
    const hists = [];
    sources.forEach((s, si) => {
      const e = s.emitter;
      const v = shapeVector({ t1Ns: e.t1Ns, t2Ns: e.t2Ns, bunchingRatio: e.a2 / (1 + e.a2 - e.g2zero) }, G);
      for (let w = 0; w + k <= s.seconds; w += k) {
        const h = new Float64Array(G.bins);
        for (let j = w; j < w + k; j++) for (let b = 0; b < G.bins; b++) h[b] += s.bank[j * G.bins + b];
        truth.push(s.g2);
        est['shape-fixed-ml'].push(fitters[si].fit(h).g2);
        est.lm.push(fitThreeLevel(h, G).g2);
        hists.push(h);
        const n = h.reduce((a, b) => a + b, 0);
        events.push(n);
        // CRB at the truth for this emitter and integration (shape known, scale a nuisance).
        const A = (s.expected[0] * k) / (1 - (1 - s.g2) * v[0]);
        crb2.push(crbShapeKnown(v, s.g2, A) ** 2);
      }
    });
    const all = new Float64Array(hists.length * G.bins);
    hists.forEach((h, i) => all.set(h, i * G.bins));
    const c = await cnn.predict(all, hists.length);
    est.cnn = Array.from(c.g2);
    const crbRms = Math.sqrt(crb2.reduce((a, b) => a + b, 0) / crb2.length);
    for (const [method, e] of Object.entries(est)) {
      const r = rmse(e, truth);
      out({ bench: 'g2-per-histogram', seconds: k, method, n: truth.length, meanEvents: +(events.reduce((a, b) => a + b, 0) / events.length).toFixed(1), mapePct: +mape(e, truth).toFixed(1), r2: +rSquared(e, truth).toFixed(3), rmse: +r.toFixed(4), crbRms: +crbRms.toFixed(4), rmseOverCrb: +(r / crbRms).toFixed(2) });
    }
  }
  // The shape-fixed fit at ≥ 1000 events against its bound (goal: within 1.2×).
  const s = sources[0];
  const e = s.emitter;
  const v = shapeVector({ t1Ns: e.t1Ns, t2Ns: e.t2Ns, bunchingRatio: e.a2 / (1 + e.a2 - e.g2zero) }, G);
  const T = Math.ceil(1000 / s.expected.reduce((a, b) => a + b, 0));
  const lam = s.expected.map((x) => x * T);
  const r2 = new Rng(5);
  const fit = shapeFixedFitter(v);
  const xs = Array.from({ length: 400 }, () => fit.fit(samplePoissonHistogram(r2, lam, new Float64Array(G.bins))).g2);
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  const crb = crbShapeKnown(v, s.g2, lam[0] / (1 - (1 - s.g2) * v[0]));
  out({ bench: 'g2-ml-vs-crb', events: Math.round(lam.reduce((a, b) => a + b, 0)), sd: +sd.toFixed(4), crb: +crb.toFixed(4), ratio: +(sd / crb).toFixed(3) });
}

// ---------- B/C. scans ----------
/** 1 s histograms at every pixel of a scan, up to `maxS` s, from the simulator on a virtual clock. */
async function simulateScan(scene, seed, n, maxS) {
  const clock = new VirtualClock();
  const world = new SimWorld({ seed, clock, scene: { emitters: scene } });
  const hbt = new SimulatedHbt('hbt0', world);
  await hbt.connect();
  const sc = world.scene('emitters', () => null);
  const px = sc.field.sizeNm / n;
  const histograms = new Uint32Array(n * n * maxS * G.bins);
  const counts = new Float64Array(n * n * maxS);
  for (let p = 0; p < n * n; p++) {
    const ix = p % n;
    const iy = Math.floor(p / n);
    world.state.focusNm = [sc.field.centerNm[0] + (ix - (n - 1) / 2) * px, sc.field.centerNm[1] + (iy - (n - 1) / 2) * px, sc.samplePlaneNm];
    for (let j = 0; j < maxS; j++) {
      const m = await hbt.histogram(1000);
      histograms.set(m.payload, (p * maxS + j) * G.bins);
      counts[p * maxS + j] = m.fields.counts;
    }
  }
  // Calibration: 1800 s on the brightest emitter (as the plan).
  const e = sc.emitters.reduce((a, b) => (b.brightnessCps > a.brightnessCps ? b : a));
  world.state.focusNm = [e.xNm, e.yNm, sc.samplePlaneNm];
  const cal = await hbt.histogram(1_800_000);
  return {
    ds: { ny: n, nx: n, k: maxS, geometry: hbt.geometry, integrationS: 1, pixelSizeNm: px, histograms, counts, acquired: new Int32Array(n * n).fill(maxS), calibration: { histogram: cal.payload, counts: cal.fields.counts, integrationS: 1800 } },
    scene: sc,
  };
}

async function mapsOf(ds, method, opts) {
  const cal = calibrate(ds.calibration.histogram, ds.calibration.counts, ds.calibration.integrationS, ds.geometry);
  const data = accumulate(ds, cal, { ...DEFAULT_RECONSTRUCT, method, ...opts });
  const maps = await estimateMaps(data, { method, calibration: cal, poolSigmaPx: poolKernelSigmaPx(300, ds.pixelSizeNm), cnn: (h, n) => cnn.predict(h, n) });
  return { maps, data, total: data.seconds.reduce((a, b) => a + b, 0) };
}

const N = quick ? 16 : 32;
const ideal = 300 / Math.SQRT2;
for (let seed = 1; want('B') && seed <= nSeeds; seed++) {
  const t0 = Date.now();
  const { ds } = await simulateScan({}, seed, N, 60);
  const cases = [
    ...[0.1, 0.05, 0.03, 0.02].map((t) => ['pooled', { earlyStop: true, targetFraction: t, maxDwellS: 60 }, `pooled early-stop target ${t}`]),
    ...[0.05, 0.03].map((t) => ['shape-fixed-ml', { earlyStop: true, targetFraction: t, maxDwellS: 60 }, `shape-fixed-ml early-stop target ${t}`]),
    ['cnn', { earlyStop: true, maxDwellS: 7, targetFraction: 1e-9 }, 'cnn fixed 7 s'],
    ['lm', { earlyStop: true, maxDwellS: 60, targetFraction: 1e-9 }, 'lm fixed 60 s'],
    ['pooled', { earlyStop: true, maxDwellS: 60, targetFraction: 1e-9 }, 'pooled fixed 60 s'],
  ];
  for (const [method, opts, label] of cases) {
    const t1 = Date.now();
    const { maps, total } = await mapsOf(ds, method, opts);
    const f = imageFwhm(maps, { ny: N, nx: N, pixelSizeNm: ds.pixelSizeNm });
    out({ bench: 'g2-scan', seed, pixels: `${N}x${N}`, case: label, totalS: total, plFwhmNm: +f.pl.fwhm.toFixed(1), g2FwhmNm: +f.G2.fwhm.toFixed(1), ratio: +f.ratio.toFixed(3), errVsIdealPct: +((100 * (f.G2.fwhm - ideal)) / ideal).toFixed(1), within5pct: Math.abs(f.G2.fwhm - ideal) <= 0.05 * ideal, speedupVsLm60: +((N * N * 60) / total).toFixed(1), computeMs: Date.now() - t1 });
  }
  out({ bench: 'g2-scan-sim', seed, simMs: Date.now() - t0 });
}

// C. two emitters 250 nm apart.
if (want('C')) {
  const { ds, scene } = await simulateScan({ preset: 'pair' }, 11, N, 60);
  const row = Math.round((scene.emitters[0].yNm - (scene.field.centerNm[1] - scene.field.sizeNm / 2)) / ds.pixelSizeNm - 0.5);
  for (const [method, opts, label] of [
    ['pooled', { earlyStop: true, targetFraction: 0.02, maxDwellS: 60 }, 'pooled early-stop target 0.02'],
    ['pooled', { earlyStop: true, maxDwellS: 60, targetFraction: 1e-9 }, 'pooled fixed 60 s'],
  ]) {
    const { maps, total } = await mapsOf(ds, method, opts);
    // Average three rows through the emitters for the profile.
    const prof = (a) => Array.from({ length: N }, (_, x) => [row - 1, row, row + 1].reduce((s, r) => s + a[r * N + x], 0) / 3);
    const pl = twoPeakDip(prof(maps.pl));
    const g2 = twoPeakDip(prof(maps.G2));
    out({ bench: 'g2-two-emitters', separationNm: 250, case: label, totalS: total, plDip: +pl.dip.toFixed(3), plResolved: pl.resolved, G2Dip: +g2.dip.toFixed(3), G2Resolved: g2.resolved });
  }
}

// D. CNN inference for 32×32 histograms.
if (want('D')) {
  const h = new Float64Array(1024 * G.bins);
  const r = new Rng(3);
  for (let i = 0; i < h.length; i++) h[i] = r.poisson(0.3);
  const times = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    await cnn.predict(h, 1024);
    if (i >= 2) times.push(performance.now() - t);
  }
  out({ bench: 'g2-cnn-inference', histograms: 1024, backend: await cnn.ready, medianMs: +median(times).toFixed(1) });
}

// E. shifted scene: two emitters 450 nm apart, background 8000 cps, t1 60 ns / t2 400 ns, PSF 330 nm.
if (want('E')) {
  const psf = 330;
  const idealE = psf / Math.SQRT2;
  const emitter = (dx) => ({ xNm: 50_000 + dx, yNm: 50_000 + dx / 3, brightnessCps: 1e5, g2zero: 0.25, t1Ns: 60, a2: 0.3, t2Ns: 400 });
  for (let seed = 1; seed <= nSeeds; seed++) {
    const { ds } = await simulateScan({ emitters: [emitter(-225), emitter(225)], psfFwhmNm: psf, backgroundCps: 8000 }, seed, N, 60);
    const cal = calibrate(ds.calibration.histogram, ds.calibration.counts, ds.calibration.integrationS, ds.geometry);
    for (const [label, opts] of [['pooled early-stop target 0.03', { earlyStop: true, targetFraction: 0.03, maxDwellS: 60 }], ['pooled fixed 60 s', { earlyStop: true, targetFraction: 1e-9, maxDwellS: 60 }]]) {
      const data = accumulate(ds, cal, { ...DEFAULT_RECONSTRUCT, method: 'pooled', ...opts });
      const pl = await estimateMaps(data, { method: 'shape-fixed-ml', calibration: cal });
      const meta = { ny: N, nx: N, pixelSizeNm: ds.pixelSizeNm };
      const sizings = { 'local PSF fit (pipeline)': plPsfFwhmNm(pl.pl, meta, 300), 'one Gaussian over the field (before)': imageFwhm(pl, meta).pl.fwhm };
      for (const [sizing, plFwhm] of Object.entries(sizings)) {
        const maps = await estimateMaps(data, { method: 'pooled', calibration: cal, poolSigmaPx: poolKernelSigmaPx(plFwhm, ds.pixelSizeNm) });
        const g2Fwhm = localPsfFwhm(maps.G2, [N, N], ds.pixelSizeNm, 300 / Math.SQRT2);
        out({ bench: 'g2-shifted-scene', seed, pixels: `${N}x${N}`, case: label, sizing, plFwhmUsedNm: +plFwhm.toFixed(1), g2FwhmNm: +g2Fwhm.toFixed(1), idealNm: +idealE.toFixed(1), errVsIdealPct: +((100 * (g2Fwhm - idealE)) / idealE).toFixed(1), within5pct: Math.abs(g2Fwhm - idealE) <= 0.05 * idealE, totalS: data.seconds.reduce((a, b) => a + b, 0) });
      }
    }
  }
}
await cnn?.close();
