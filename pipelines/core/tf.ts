/**
 * TensorFlow.js for qscope: backend selection (foundation) and the gradient
 * kernels the wasm backend lacks (g2 owns; cosy may add more here).
 */
import * as tf from '@tensorflow/tfjs';
import { createLogger, type Logger } from '../../drivers/core/log.js';

// ==================== backend selection (owner: foundation) ====================

/** tfjs backends in order of preference: tfjs-node's native TensorFlow, then WebAssembly, then pure JS. */
export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';
export const TF_BACKENDS: readonly TfBackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface LoadTfOptions {
  /**
   * First backend to try (later ones are the fallbacks); default `tensorflow`,
   * or `$QSCOPE_TF_BACKEND` when set (pin the backend: bit-identical replays
   * need the same one).
   */
  prefer?: TfBackendName;
  /** Where to log the choice; default a `tf` child of a new daemon logger. */
  log?: Logger;
}

export interface LoadedTf {
  /** The tfjs namespace, with `backend` active. */
  tf: typeof tf;
  backend: TfBackendName;
  /** Why each preferred backend before it was skipped. */
  skipped: { backend: TfBackendName; reason: string }[];
}

/**
 * Activates the best tfjs backend this machine has: tfjs-node when it loads
 * (an optional dependency; its installer needs a download this project's
 * machines cannot make), else WebAssembly (SIMD, single-threaded in Node),
 * else the pure-JS CPU backend. Logs which one, and why others were skipped.
 * On wasm it also registers the kernels wasm lacks (see below).
 */
export async function loadTf(opts: LoadTfOptions = {}): Promise<LoadedTf> {
  const log = opts.log ?? createLogger().child({ owner: 'tf' });
  const envPrefer = process.env.QSCOPE_TF_BACKEND;
  if (envPrefer !== undefined && !TF_BACKENDS.includes(envPrefer as TfBackendName)) {
    throw new RangeError(`QSCOPE_TF_BACKEND: must be one of ${TF_BACKENDS.join(', ')}, got '${envPrefer}'`);
  }
  const prefer = opts.prefer ?? (envPrefer as TfBackendName | undefined) ?? 'tensorflow';
  if (!TF_BACKENDS.includes(prefer)) throw new RangeError(`prefer: must be one of ${TF_BACKENDS.join(', ')}, got '${String(prefer)}'`);
  const skipped: LoadedTf['skipped'] = [];
  for (const backend of TF_BACKENDS.slice(TF_BACKENDS.indexOf(prefer))) {
    try {
      await activate(backend);
      log.info({ backend, skipped }, `tfjs backend: ${backend}`);
      return { tf, backend, skipped };
    } catch (err) {
      skipped.push({ backend, reason: (err as Error).message.split('\n')[0]! });
    }
  }
  // Unreachable in practice: cpu ships with @tensorflow/tfjs.
  throw new Error(`no tfjs backend could be activated: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}

async function activate(backend: TfBackendName): Promise<void> {
  if (backend === 'tensorflow') {
    // Optional dependency: absent, or present without its native library.
    await import('@tensorflow/tfjs-node' as string);
    // It must have registered into this tfjs copy, or its tensors would not be ours.
    if (!tf.findBackendFactory('tensorflow')) throw new Error('tfjs-node loaded but registered into another copy of tfjs-core');
  } else if (backend === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  if (tf.getBackend() !== backend) throw new Error(`backend is '${tf.getBackend()}' after setBackend('${backend}')`);
  if (backend === 'wasm') registerMissingWasmKernels();
}

/**
 * The kernels the wasm backend ships without, registered when wasm becomes
 * the backend. Owner: g2 (cosy may add lines): one call per missing kernel.
 */
function registerMissingWasmKernels(): void {
  registerWasmSlice();
  registerWasmConv2DBackpropFilter();
  registerWasmConv2DBackpropInput();
}

// ==================== wasm gradient kernels (owner: g2) ====================

type KernelFunc = (args: { inputs: Record<string, tf.TensorInfo>; attrs: Record<string, unknown>; backend: unknown }) => tf.TensorInfo;

interface WasmBackendLike {
  disposeData(dataId: object): void;
}

function wasmKernel(name: string): KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`tfjs wasm backend: kernel '${name}' is not registered (is @tensorflow/tfjs-backend-wasm loaded?)`);
  return k.kernelFunc as unknown as KernelFunc;
}

/**
 * Registers `Conv2DBackpropFilter` (the filter gradient of conv2d, and so of
 * conv1d) for the wasm backend, which ships without it. The gradient is a
 * correlation, so it is built from kernels wasm has (NOTES.md): for NHWC x
 * [B,H,W,Ci], dy [B,Ho,Wo,Co], strides s and top/left padding (pt, pl),
 *   dW[i,j,c,o] = Σ_{b,h,w} x[b, s·h+i−pt, s·w+j−pl, c] · dy[b,h,w,o],
 * i.e. a stride-1 `valid` conv2d of x with batch and channels swapped
 * ([Ci,H,W,B], padded or cropped so the output is exactly kh×kw) by dy used
 * as the filter ([Ho,Wo,B,Co]) with dilation s, transposed to [kh,kw,Ci,Co].
 * Calls the wasm kernels directly (not tf ops) so every intermediate buffer
 * is freed here and the engine sees one output. Idempotent.
 */
export function registerWasmConv2DBackpropFilter(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  const transpose = wasmKernel('Transpose');
  const pad = wasmKernel('PadV2');
  const slice = wasmKernel('Slice');
  const conv2d = wasmKernel('Conv2D');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ((args: { inputs: Record<string, tf.TensorInfo>; attrs: Record<string, unknown>; backend: unknown }) => {
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad: padding, dataFormat, dimRoundingMode, filterShape } = args.attrs as {
        strides: number | [number, number];
        pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        filterShape: [number, number, number, number];
      };
      if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter (wasm): dataFormat '${dataFormat}' unsupported, use NHWC`);
      const backend = args.backend as WasmBackendLike;
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, padding, dimRoundingMode, false, 'channelsLast');
      const [kh, kw] = [info.filterHeight, info.filterWidth];
      const [sh, sw] = [info.strideHeight, info.strideWidth];
      const [, H, W] = x.shape as [number, number, number, number];
      const temps: tf.TensorInfo[] = [];
      const keep = (t: tf.TensorInfo) => (temps.push(t), t);
      const call = (k: KernelFunc, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>) => keep(k({ inputs, attrs, backend }));
      try {
        let xt = call(transpose, { x }, { perm: [3, 1, 2, 0] }); // [Ci,H,W,B]
        // Rows/cols the stride-1 correlation needs: kh + (Ho−1)·sh (resp. w).
        const needH = kh + (info.outHeight - 1) * sh;
        const needW = kw + (info.outWidth - 1) * sw;
        const pt = info.padInfo.top;
        const pl = info.padInfo.left;
        const pb = needH - H - pt;
        const pr = needW - W - pl;
        if (pt > 0 || pl > 0 || pb > 0 || pr > 0) {
          xt = call(pad, { x: xt }, { paddings: [[0, 0], [Math.max(pt, 0), Math.max(pb, 0)], [Math.max(pl, 0), Math.max(pr, 0)], [0, 0]], constantValue: 0 });
        }
        if (pb < 0 || pr < 0) {
          // Trailing rows/cols the forward conv never reached (stride leftovers): crop them.
          const [c0, h0, w0, b0] = xt.shape;
          xt = call(slice, { x: xt }, { begin: [0, 0, 0, 0], size: [c0, h0! + Math.min(pb, 0), w0! + Math.min(pr, 0), b0] });
        }
        const dyt = call(transpose, { x: dy }, { perm: [1, 2, 0, 3] }); // [Ho,Wo,B,Co]
        const corr = call(conv2d, { x: xt, filter: dyt }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] }); // [Ci,kh,kw,Co]
        const out = transpose({ inputs: { x: corr }, attrs: { perm: [1, 2, 0, 3] }, backend });
        return out;
      } finally {
        for (const t of temps) backend.disposeData(t.dataId);
      }
    }) as unknown as tf.KernelFunc,
  });
}

// ==================== wasm Conv2DBackpropInput (added by cosy) ====================

/**
 * Replaces the wasm backend's `Conv2DBackpropInput` (the input gradient of
 * every conv2d, and the forward pass of conv2dTranspose) for the two shapes
 * DLNet uses, because the shipped kernel is a plain loop that took 70 % of a
 * DLNet training step (profiled: 7.5 s of 10.8 s per batch of 16):
 *  - stride 1: dx = conv2d(dy, W rotated 180° with in/out channels swapped),
 *    padded by (k − 1 − forward pad) on each side — a forward conv (XNNPACK);
 *  - stride = kernel size, `valid`, square (strided-conv pooling, transposed
 *    conv): the windows do not overlap, so dx is one 1×1 convolution
 *    (a GEMM dy[B·Ho·Wo, Co] × Wᵀ[Co, k·k·Ci]) followed by a depth-to-space reshuffle.
 * Anything else falls back to the shipped kernel. Idempotent.
 */
export function registerWasmConv2DBackpropInput(): void {
  const shipped = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!shipped) throw new Error("tfjs wasm backend: kernel 'Conv2DBackpropInput' is not registered (is @tensorflow/tfjs-backend-wasm loaded?)");
  if ((shipped.kernelFunc as { qscope?: boolean }).qscope) return;
  const fallback = shipped.kernelFunc as unknown as KernelFunc;
  const reshape = wasmKernel('Reshape');
  const reverse = wasmKernel('Reverse');
  const transpose = wasmKernel('Transpose');
  const conv2d = wasmKernel('Conv2D');
  const kernelFunc = ((args: { inputs: Record<string, tf.TensorInfo>; attrs: Record<string, unknown>; backend: unknown }) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as {
      strides: number | [number, number];
      pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      inputShape: [number, number, number, number];
    };
    if (dataFormat !== undefined && dataFormat !== 'NHWC') return fallback(args);
    const backend = args.backend as WasmBackendLike;
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inChannels: ci, outChannels: co, batchSize: b, outHeight: ho, outWidth: wo } = info;
    const temps: tf.TensorInfo[] = [];
    const call = (k: KernelFunc, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>) => {
      const t = k({ inputs, attrs, backend });
      temps.push(t);
      return t;
    };
    const p = info.padInfo;
    try {
      if (sh === 1 && sw === 1) {
        const flipped = call(reverse, { x: filter }, { dims: [0, 1] });
        const w = call(transpose, { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh,kw,Co,Ci]
        const padding = [[0, 0], [kh - 1 - p.top, kh - 1 - p.bottom], [kw - 1 - p.left, kw - 1 - p.right], [0, 0]];
        if (padding.some(([a, c]) => a! < 0 || c! < 0)) return fallback(args);
        return conv2d({ inputs: { x: dy, filter: w }, attrs: { strides: [1, 1], pad: padding, dataFormat: 'NHWC', dilations: [1, 1] }, backend });
      }
      if (sh === kh && sw === kw && kh === kw && p.top === 0 && p.left === 0 && p.bottom === 0 && p.right === 0 && ho * sh === inputShape[1] && wo * sw === inputShape[2]) {
        // A 1×1 convolution is XNNPACK's GEMM: z[b,h,w,(i,j,c)] = Σ_o dy[b,h,w,o]·W[i,j,c,o].
        const wt = call(transpose, { x: filter }, { perm: [3, 0, 1, 2] }); // [Co,kh,kw,Ci]
        const w = call(reshape, { x: wt }, { shape: [1, 1, co, kh * kw * ci] });
        const z = call(conv2d, { x: dy, filter: w }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
        // Depth-to-space by reshape + transpose (wasm's DepthToSpace kernel is ~10× slower).
        const z6 = call(reshape, { x: z }, { shape: [b, ho, wo, kh, kw, ci] });
        const t6 = call(transpose, { x: z6 }, { perm: [0, 1, 3, 2, 4, 5] }); // [B,Ho,kh,Wo,kw,Ci]
        return reshape({ inputs: { x: t6 }, attrs: { shape: [b, ho * kh, wo * kw, ci] }, backend });
      }
      return fallback(args);
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  }) as unknown as tf.KernelFunc & { qscope?: boolean };
  kernelFunc.qscope = true;
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc, setupFunc: shipped.setupFunc });
}

// ==================== wasm slicing (owner: domains) ====================

interface WasmHeapBackend extends WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * Registers faster `Slice` and `SplitV` for the wasm backend. The shipped
 * ones read their input through `readSync`, which copies the whole input
 * tensor out of the wasm heap on every call (≈ 20 ms for a 2 M-value
 * activation, whatever the size of the slice), and copy one innermost row
 * per call. These read the input in place (a view of the heap) and copy the
 * largest contiguous runs. Same values (pure copies). Strings fall back to
 * the shipped kernels. Idempotent.
 */
export function registerWasmSlice(): void {
  const shipped = tf.getKernel('Slice', 'wasm');
  const shippedSplit = tf.getKernel('SplitV', 'wasm');
  if (!shipped || !shippedSplit) throw new Error("tfjs wasm backend: kernels 'Slice'/'SplitV' are not registered (is @tensorflow/tfjs-backend-wasm loaded?)");
  if ((shipped.kernelFunc as { qscope?: boolean }).qscope) return;
  const fallback = shipped.kernelFunc as unknown as KernelFunc;
  const fallbackSplit = shippedSplit.kernelFunc as unknown as (args: Parameters<KernelFunc>[0]) => tf.TensorInfo[];

  const sliceInto = (backend: WasmHeapBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo => {
    const out = backend.makeOutput(size, x.dtype);
    const total = size.reduce((a, b) => a * b, 1);
    if (total === 0) return out;
    // Views after makeOutput: an allocation may grow (and so replace) the heap buffer.
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const shape = x.shape;
    const r = shape.length;
    const strides = new Array<number>(r);
    for (let d = r - 1, acc = 1; d >= 0; d--) (strides[d] = acc), (acc *= shape[d]!);
    // Innermost dimension k whose trailing dimensions are taken whole: runs of size[k]·strides[k] values.
    let k = r - 1;
    while (k > 0 && begin[k] === 0 && size[k] === shape[k]) k--;
    const run = size[k]! * strides[k]!;
    const outer = total / run;
    const idx = new Array<number>(k).fill(0);
    let o = 0;
    for (let n = 0; n < outer; n++) {
      let off = begin[k]! * strides[k]!;
      for (let d = 0; d < k; d++) off += (begin[d]! + idx[d]!) * strides[d]!;
      dst.set(src.subarray(off, off + run), o);
      o += run;
      for (let d = k - 1; d >= 0; d--) {
        if (++idx[d]! < size[d]!) break;
        idx[d] = 0;
      }
    }
    return out;
  };

  const sliceFunc = ((args: Parameters<KernelFunc>[0]) => {
    const x = args.inputs.x!;
    if (x.dtype === 'string') return fallback(args);
    const { begin, size } = args.attrs as { begin: number | number[]; size?: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceInto(args.backend as WasmHeapBackend, x, b, s);
  }) as unknown as tf.KernelFunc & { qscope?: boolean };
  sliceFunc.qscope = true;

  const splitFunc = ((args: Parameters<KernelFunc>[0]) => {
    const x = args.inputs.x!;
    if (x.dtype === 'string') return fallbackSplit(args);
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((n) => {
      const size = [...x.shape];
      size[ax] = n;
      const t = sliceInto(args.backend as WasmHeapBackend, x, [...begin], size);
      begin[ax]! += n;
      return t;
    });
  }) as unknown as tf.KernelFunc;

  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ kernelName: 'Slice', backendName: 'wasm', kernelFunc: sliceFunc, ...(shipped.setupFunc ? { setupFunc: shipped.setupFunc } : {}) });
  tf.unregisterKernel('SplitV', 'wasm');
  tf.registerKernel({ kernelName: 'SplitV', backendName: 'wasm', kernelFunc: splitFunc, ...(shippedSplit.setupFunc ? { setupFunc: shippedSplit.setupFunc } : {}) });
}
