/**
 * Conv2DBackpropFilter for the wasm backend, which lacks it (NOTES.md): the
 * filter gradient of conv2d and of conv2dTranspose. DLNet cannot train on
 * wasm without it.
 *
 * TEMPORARY home: pipelines/core/tf.ts is where the g2 engineer registers this
 * kernel for everyone; when that lands, this file goes and DLNet calls theirs.
 *
 * dW[i,j,c,o] = Σ_{b,h,w} x[b, s·h+i−pt, s·w+j−pl, c] · dy[b,h,w,o] is a
 * forward conv2d (stride 1, dilation s, valid) of x with batch and channels
 * swapped, by dy used as the filter, then a transpose to [kh,kw,Ci,Co].
 */
import type * as TF from '@tensorflow/tfjs';

let registered = false;

export function registerWasmConv2DBackpropFilter(tf: typeof TF): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TF.TensorInfo; dy: TF.TensorInfo };
      const a = attrs as unknown as { strides: number | [number, number]; pad: 'same' | 'valid' | number; dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number] };
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
      const [kh, kw] = a.filterShape;
      const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, [sh, sw], 1, a.pad as 'same', a.dimRoundingMode);
      const be = backend as unknown as { incRef(id: unknown): void };
      // Wrapping a TensorInfo in a Tensor does not take a backend reference, but disposing it drops one.
      be.incRef(x.dataId);
      be.incRef(dy.dataId);
      const res = tf.tidy(() => {
        const xt = tf.engine().makeTensorFromTensorInfo(x) as TF.Tensor4D;
        const dyt = tf.engine().makeTensorFromTensorInfo(dy) as TF.Tensor4D;
        const [, H, W] = xt.shape;
        const [, Ho, Wo] = dyt.shape;
        let xs = tf.transpose(xt, [3, 1, 2, 0]); // [Ci,H,W,B]
        const top = info.padInfo.top, left = info.padInfo.left;
        const needH = kh + sh * (Ho - 1), needW = kw + sw * (Wo - 1);
        const bottom = needH - H - top, right = needW - W - left;
        // Pad (or crop when the forward pass ignored trailing rows) to exactly needH×needW.
        xs = tf.pad(xs, [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]]);
        if (bottom < 0 || right < 0 || top < 0 || left < 0) {
          xs = tf.slice(xs, [0, Math.max(-top, 0), Math.max(-left, 0), 0], [-1, needH, needW, -1]);
        }
        const filt = tf.transpose(dyt, [1, 2, 0, 3]); // [Ho,Wo,B,Co]
        const out = tf.conv2d(xs, filt, 1, 'valid', 'NHWC', [sh, sw]); // [Ci,kh,kw,Co]
        return tf.transpose(out, [1, 2, 0, 3]);
      });
      // Hand the data to the engine's output tensor: keep the buffer alive past res.dispose().
      be.incRef(res.dataId);
      const out = { dataId: res.dataId, shape: res.shape, dtype: res.dtype };
      res.dispose();
      return out;
    },
  });
}

/** TEMPORARY until pipelines/core/tf.ts lands: tfjs on the wasm backend with the missing gradient registered. */
export async function loadWasmTf(): Promise<typeof TF> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  if (tf.getBackend() !== 'wasm') {
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('tfjs: the wasm backend failed to initialise');
  }
  await tf.ready();
  registerWasmConv2DBackpropFilter(tf);
  return tf;
}
