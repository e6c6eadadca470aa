"""Reference timings for `npm run bench -- fft`: NumPy's FFT (pocketfft, one
thread), same protocol as the bench: warm-up >= 50 ms, 15 samples of >= 5 ms
of process CPU time, median per transform; output arrays are allocated by
NumPy on every call, as qscope's API does.

    python3 numpy-ref.py f64|f32 c2c|r2c BATCH N0 [N1]   -> {"us": ...}
"""
import json
import sys
import time

import numpy as np


def main():
    dtype, kind, batch, dims = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(a) for a in sys.argv[4:]]
    rng = np.random.default_rng(1)
    shape = ([batch] if batch > 1 else []) + dims
    axes = tuple(range(-len(dims), 0))
    real = (rng.random(shape) - 0.5).astype(np.float32 if dtype == 'f32' else np.float64)
    if kind == 'r2c':
        x = real
        fn = lambda: np.fft.rfftn(x, axes=axes)
    else:
        x = (real + 1j * (rng.random(shape) - 0.5)).astype(np.complex64 if dtype == 'f32' else np.complex128)
        fn = lambda: np.fft.fftn(x, axes=axes)
    cpu = time.process_time
    w0 = cpu()
    i = 0
    while i < 3 or cpu() - w0 < 0.05:
        fn()
        i += 1
    reps = 1
    while True:
        t0 = cpu()
        for _ in range(reps):
            fn()
        if cpu() - t0 >= 0.005 or reps >= 1 << 16:
            break
        reps *= 2
    samples = []
    for _ in range(15):
        t0 = cpu()
        for _ in range(reps):
            fn()
        samples.append((cpu() - t0) / reps * 1e6)
    samples.sort()
    print(json.dumps({'us': samples[7], 'numpy': np.__version__}))


main()
