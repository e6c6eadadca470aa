/**
 * The exporter of `mrfm-multislice` / `mrfm-xyz` sessions (`qscope export`):
 * writes the session as an `mrfm-multislice` dataset (psf.npy recomputed from
 * the plan parameters, measurement.npy with NaN where the mask skipped a
 * point, the last live reconstruction as recon.npy) and returns the dataset
 * fields, which the generic export puts in the manifest's `parameters`
 * (readMrfmDataset reads them from there). The PSF is computed synchronously:
 * export is an offline command.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../../drivers/core/npy.js';
import { mrfmPsf } from '../../native/index.js';
import { DEFAULT_FORCE_SETTINGS } from '../../drivers/force/interface.js';
import { psfJob, zHeights } from '../../drivers/force/physics.js';
import type { SessionExporter } from '../core/exporter.js';
import type { RecordedSession } from '../core/recorded-session.js';
import { MRFM_KIND, MRFM_VERSION, type MrfmManifest } from './dataset.js';
import { gridOf, setupOf } from './pipeline.js';
import { planPulseCentres, type MrfmPlanParams } from './plan.js';

export const exportMrfm: SessionExporter = (reader: RecordedSession, dir: string) => {
  const s = reader.session();
  const p = s.params as unknown as MrfmPlanParams;
  const grid = gridOf(p);
  const setup = setupOf(p);
  const f0 = planPulseCentres(p);
  const xyz = p.protocol === 'xyz';
  const nf = xyz ? p.zSteps : p.nf;
  const base = { setup, grid, geometry: p.geometry, fBWHz: p.fBWHz, subSamples: p.subSamples };
  let psf: Float32Array;
  if (xyz) {
    const per = p.nx * p.ny * p.nz;
    psf = new Float32Array(per * nf);
    for (let k = 0; k < nf; k++) psf.set(mrfmPsf(psfJob({ ...base, f0Hz: [f0[0]!], heightOffsetNm: k * p.stepNm })), k * per);
  } else psf = mrfmPsf(psfJob({ ...base, f0Hz: f0 }));
  const measurement = new Float64Array(p.nx * p.ny * nf).fill(Number.NaN);
  for (const f of reader.frames('frames')) {
    if (!f.header.stream.endsWith('.variance')) continue;
    const { i, j, l } = f.header as unknown as { i: number; j: number; l: number };
    measurement[(i * p.ny + j) * nf + l] = Number(f.payload[0]);
  }
  const files = ['psf.npy', 'measurement.npy'];
  writeFileSync(join(dir, 'psf.npy'), encodeNpy(psf, [nf, p.nx, p.ny, p.nz]));
  writeFileSync(join(dir, 'measurement.npy'), encodeNpy(measurement, [p.nx, p.ny, nf]));
  let last;
  for (const f of reader.frames('results', 'mrfm.recon')) last = f;
  if (last) {
    writeFileSync(join(dir, 'recon.npy'), encodeNpy(last.payload, last.header.shape));
    files.push('recon.npy');
  }
  const sensorId = s.instruments.sensor;
  const instruments = (s.config.instruments ?? {}) as Record<string, Record<string, unknown>>;
  const sensor = { ...DEFAULT_FORCE_SETTINGS, ...(sensorId ? instruments[sensorId] : {}) } as Record<string, unknown>;
  const scene = ((s.config.scene ?? {}) as Record<string, Record<string, unknown>>).mrfm ?? {};
  const fields: Omit<MrfmManifest, 'kind' | 'version'> = {
    voxel_size_nm: [p.stepNm, p.stepNm, p.stepNm],
    voxel_volume_nm3: p.stepNm ** 3,
    grid: { nx: p.nx, ny: p.ny, nz: p.nz, nf, z_heights_nm: zHeights(grid) },
    pulses: { f0_Hz: xyz ? Array(nf).fill(f0[0]) : f0, fBW_Hz: p.fBWHz },
    geometry: { resonator: p.geometry, protocol: p.protocol },
    noise: {
      S_th_aN_per_rtHz: Number(sensor.sThAnPerRtHz), bandwidth_Hz: Number(sensor.bandwidthHz),
      tau_m_s: Number(sensor.spinCorrelationMs ?? scene.tauMs ?? 20) / 1000, Tm_s: p.TmS, nf: xyz ? 1 : nf,
    },
    sampling: { p: p.p, seed: p.seed },
  };
  return {
    kind: MRFM_KIND,
    shape: [p.nx, p.ny, nf],
    axes: [
      { name: 'x', unit: 'nm', start: -Math.floor(p.nx / 2) * p.stepNm, step: p.stepNm },
      { name: 'y', unit: 'nm', start: -Math.floor(p.ny / 2) * p.stepNm, step: p.stepNm },
      { name: xyz ? 'z step' : 'pulse', unit: '1', start: 0, step: 1 },
    ],
    parameters: { ...fields, datasetVersion: MRFM_VERSION },
    files,
  };
};
