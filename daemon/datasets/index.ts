export { encodeNpy, decodeNpy, readNpy, NpyError, type NpyArray } from '../../drivers/core/npy.js';
export { exportSession, ExporterRegistry, createDefaultExporters, type SessionExporter, type ExportResult } from './export.js';
export { importDataset, DatasetError, type ImportResult } from './import.js';
export { SESSION_KIND, MANIFEST_VERSION, type Manifest, type ManifestArray, type Axis } from '../../pipelines/core/manifest.js';
