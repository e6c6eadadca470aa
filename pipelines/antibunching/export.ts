/**
 * Exporter of `antibunching-scan` sessions (`qscope export`): adds the
 * `hbt-scan` dataset to the generic export — `histograms.npy` (ny, nx, k, bins)
 * of the k consecutive histograms per pixel (zero padded after an early stop),
 * `counts.npy` (ny, nx, k) photon counts per window, `dwell_s.npy` (ny, nx),
 * `calibration.npy` (bins) the calibration histogram — and the manifest fields
 * `qscope reconstruct g2` reads (decision 0703).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame } from '../../drivers/core/frame.js';
import type { SessionExporter } from '../core/exporter.js';
import type { ArrayAxis, Axis } from '../core/manifest.js';
import { encodeNpy } from '../../drivers/core/npy.js';

export const exportG2: SessionExporter = (reader, dir) => {
  const session = reader.session();
  const params = session.params as { nx?: number; ny?: number; fieldSizeNm?: number };
  const nx = Number(params.nx);
  const ny = Number(params.ny);
  if (!(nx > 0 && ny > 0)) throw new Error(`session ${session.id}: params nx/ny missing, not an antibunching-scan`);
  const stream = reader.streams().find((s) => s.name.endsWith('.histogram'))?.name;
  if (!stream) throw new Error(`session ${session.id}: no histogram stream`);
  const perPixel: Frame[][] = Array.from({ length: nx * ny }, () => []);
  let calibration: Frame | undefined;
  let first: Frame | undefined;
  for (const f of reader.frames('frames', stream)) {
    if (f.header.phase === 'calibration') calibration = f;
    if (f.header.phase !== 'scan') continue;
    first ??= f;
    const p = Number(f.header.pixel);
    if (p >= 0 && p < perPixel.length) perPixel[p]!.push(f);
  }
  if (!first) throw new Error(`session ${session.id}: no scan histograms recorded`);
  const bins = first.payload.length;
  const integrationS = Number(first.header.integrationS);
  const k = Math.max(1, ...perPixel.map((l) => l.length));
  const hist = new Uint32Array(nx * ny * k * bins);
  const counts = new Float64Array(nx * ny * k);
  const dwell = new Float64Array(nx * ny);
  perPixel.forEach((list, p) => {
    list.forEach((f, j) => {
      hist.set(f.payload as Uint32Array, (p * k + j) * bins);
      counts[p * k + j] = Number(f.header.counts);
    });
    dwell[p] = list.length * integrationS;
  });
  const files = ['histograms.npy', 'counts.npy', 'dwell_s.npy'];
  // The images the pipeline rendered, as real .png files (the generic export keeps them as u8 arrays).
  for (const s of reader.streams().filter((x) => x.kind === 'result' && x.name.startsWith('g2.png_'))) {
    const frames = [...reader.frames('results', s.name)];
    const last = frames[frames.length - 1];
    if (!last) continue;
    const name = `${s.name.slice('g2.png_'.length)}.png`;
    writeFileSync(join(dir, name), last.payload as Uint8Array);
    files.push(name);
  }
  writeFileSync(join(dir, 'histograms.npy'), encodeNpy(hist, [ny, nx, k, bins]));
  writeFileSync(join(dir, 'counts.npy'), encodeNpy(counts, [ny, nx, k]));
  writeFileSync(join(dir, 'dwell_s.npy'), encodeNpy(dwell, [ny, nx]));
  const pixelSizeNm = Number(params.fieldSizeNm) / nx;
  const cx = Number((params as { centerXNm?: number }).centerXNm ?? 50_000);
  const cy = Number((params as { centerYNm?: number }).centerYNm ?? 50_000);
  // Pixel centres, nm, in stage coordinates (the plan's raster).
  const y: ArrayAxis = { name: 'y', unit: 'nm', start: cy - ((ny - 1) / 2) * pixelSizeNm, step: pixelSizeNm };
  const x: ArrayAxis = { name: 'x', unit: 'nm', start: cx - ((nx - 1) / 2) * pixelSizeNm, step: pixelSizeNm };
  const binWidthNs = Number(first.header.binWidthNs);
  const delay: ArrayAxis = { name: 'delay', unit: 'ns', start: -Number(first.header.zeroBin) * binWidthNs, step: binWidthNs };
  const windowAxis: ArrayAxis = { name: 'window', unit: '1', start: 0, step: 1 };
  const arrays: NonNullable<ReturnType<SessionExporter>['arrays']> = [
    { file: 'histograms.npy', role: 'dataset', dtype: 'u32', shape: [ny, nx, k, bins], unit: 'counts', axes: [y, x, windowAxis, delay], longName: `start-stop coincidences per delay bin, one ${integrationS} s histogram per window (zero after an early stop)` },
    { file: 'counts.npy', role: 'dataset', dtype: 'f64', shape: [ny, nx, k], unit: 'counts', axes: [y, x, windowAxis], longName: 'photon counts per window' },
    { file: 'dwell_s.npy', role: 'dataset', dtype: 'f64', shape: [ny, nx], unit: 's', axes: [y, x], longName: 'dwell time per pixel' },
  ];
  const parameters: Record<string, unknown> = {
    bins,
    binWidthNs: Number(first.header.binWidthNs),
    zeroBin: Number(first.header.zeroBin),
    jitterNs: Number(first.header.jitterNs ?? 0),
    integrationS,
    pixelSizeNm,
  };
  if (calibration) {
    writeFileSync(join(dir, 'calibration.npy'), encodeNpy(calibration.payload, [bins]));
    files.push('calibration.npy');
    arrays.push({ file: 'calibration.npy', role: 'dataset', dtype: calibration.header.dtype, shape: [bins], unit: 'counts', axes: [delay], longName: 'calibration histogram on the brightest spot' });
    parameters.calibration = { file: 'calibration.npy', counts: Number(calibration.header.counts), integrationS: Number(calibration.header.integrationS) };
  }
  return {
    kind: 'hbt-scan',
    shape: [ny, nx],
    axes: [y as Axis, x as Axis],
    parameters,
    files,
    arrays,
    mapAxes: {
      '*': { axes: [y, x] },
      pl: { axes: [y, x], unit: 'counts/s', longName: 'photoluminescence rate' },
      g2: { axes: [y, x], unit: '1', longName: 'g2(0)' },
      g2_std: { axes: [y, x], unit: '1', longName: 'standard error of g2(0)' },
      G2: { axes: [y, x], unit: 'counts^2', longName: 'G2 = <N>^2 (1 - g2(0))' },
      G2_std: { axes: [y, x], unit: 'counts^2', longName: 'standard error of G2' },
      dwell_s: { axes: [y, x], unit: 's', longName: 'dwell time per pixel' },
      crb: { axes: [y, x], unit: '1', longName: 'Cramér-Rao bound on g2(0)' },
    },
  };
};
