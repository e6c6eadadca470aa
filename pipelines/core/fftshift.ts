/** `fftshift` of a row-major [n1, n2] array: zero frequency moves from [0, 0] to the middle (NumPy's `fftshift`). */
export function fftshift2(data: ArrayLike<number>, n1: number, n2: number): Float64Array {
  const out = new Float64Array(n1 * n2);
  const h1 = Math.floor(n1 / 2);
  const h2 = Math.floor(n2 / 2);
  for (let i = 0; i < n1; i++) for (let j = 0; j < n2; j++) out[((i + h1) % n1) * n2 + ((j + h2) % n2)] = data[i * n2 + j]!;
  return out;
}
