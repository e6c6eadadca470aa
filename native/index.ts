/**
 * qscope/native — the project's C++ kernels (FFT, SVD + SVT, sampling masks).
 *
 * This is the one TypeScript module that declares and documents every export
 * of the addon `qscope_native.node`. Arguments are checked here, in TS, with
 * exact messages before the native call; the native side re-checks sizes so a
 * bad call can never read or write out of bounds.
 *
 * Layout conventions: every array is C-ordered (row-major, last axis
 * fastest). Kernels read the caller's typed arrays in place and never modify
 * them unless an option says so.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Finds build/Release/qscope_native.node from source (native/) or build output (dist/native/). */
function loadAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    for (const kind of ['Release', 'Debug']) {
      const candidate = join(dir, 'build', kind, 'qscope_native.node');
      if (existsSync(candidate)) return require(candidate) as NativeAddon;
    }
    dir = dirname(dir);
  }
  throw new Error('qscope native addon not found: run `npm install` (or `npm run build`) to compile it');
}

// The raw addon surface; each kernel family adds its native functions here.
interface NativeAddon {
  // ---- masks (native/masks.cc) ----
  // ---- fft (native/fft.cc) ----
  // ---- svd (native/svd.cc) ----
  // ---- svt + adaptive sampling (native/svt.cc, native/masks.cc) ----
  [name: string]: unknown;
}

const addon: NativeAddon = loadAddon();

/** Shared argument check: a shape is a non-empty list of positive integers. */
export function checkShape(shape: readonly number[], name = 'shape'): number {
  if (!Array.isArray(shape) || shape.length === 0) throw new RangeError(`${name}: must be a non-empty array of positive integers`);
  let n = 1;
  shape.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) {
      throw new RangeError(`${name}[${i}]: must be a positive integer, got ${String(d)}`);
    }
    n *= d;
  });
  return n;
}

// ============================ masks ============================
// (owner: foundation issue)

// ============================ fft ==============================
// (owner: FFT issue)

// ============================ svd ==============================
// (owner: SVD/SVT issue)

// ===================== svt + adaptive sampling =================
// (owner: SVD/SVT issue)

void addon;
