/**
 * Spin maps as PNG (pngjs). Kerr (one component, S_z): a diverging grey map,
 * −1 black, 0 mid-grey, +1 white. SPLEEM (three components): the customary
 * colour wheel — hue from the in-plane angle atan2(S_y, S_x), lightness from
 * S_z (HSL, +1 white, −1 black, in-plane fully saturated). Pixels are
 * replicated `zoom` times.
 */
import { PNG } from 'pngjs';

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = l - c / 2;
  return [r + m, g + m, b + m].map((v) => Math.round(255 * Math.min(1, Math.max(0, v)))) as [number, number, number];
}

/** RGB of one spin (C = 1: [S_z]; C = 3: [S_x, S_y, S_z]). */
export function spinColour(s: ArrayLike<number>, offset: number, components: number): [number, number, number] {
  if (components === 1) {
    const v = s[offset]!;
    const g = Number.isFinite(v) ? Math.round(255 * (Math.min(1, Math.max(-1, v)) + 1) / 2) : 128;
    return [g, g, g];
  }
  const sx = s[offset]!, sy = s[offset + 1]!, sz = s[offset + 2]!;
  if (![sx, sy, sz].every(Number.isFinite)) return [128, 128, 128];
  const hue = (Math.atan2(sy, sx) * 180) / Math.PI;
  return hslToRgb(hue, 1, (Math.min(1, Math.max(-1, sz)) + 1) / 2);
}

/** PNG bytes of a spin map [rows, cols, C]. */
export function renderSpinPng(s: ArrayLike<number>, rows: number, cols: number, components: number, zoom = Math.max(1, Math.ceil(256 / cols))): Buffer {
  if (s.length !== rows * cols * components) throw new RangeError(`spin map: ${s.length} values, expected ${rows}·${cols}·${components}`);
  const png = new PNG({ width: cols * zoom, height: rows * zoom });
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const rgb = spinColour(s, (r * cols + c) * components, components);
      for (let dy = 0; dy < zoom; dy++)
        for (let dx = 0; dx < zoom; dx++) {
          const o = ((r * zoom + dy) * cols * zoom + c * zoom + dx) * 4;
          png.data[o] = rgb[0];
          png.data[o + 1] = rgb[1];
          png.data[o + 2] = rgb[2];
          png.data[o + 3] = 255;
        }
    }
  return PNG.sync.write(png);
}
