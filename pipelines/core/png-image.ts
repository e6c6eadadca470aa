/**
 * Scientific images as PNG (pngjs): a 2D map in a perceptual colour map,
 * upscaled by pixel replication, with a colour bar labelled with its range
 * and unit, a scale bar labelled in nm, and a title. Text uses a built-in
 * 3×5 pixel font (digits, a few letters and symbols), so no font files.
 */
import { PNG } from 'pngjs';

export interface PngImageOptions {
  /** [ny, nx] of `values` (row-major, row 0 at the top). */
  shape: [number, number];
  /** Physical pixel size, nm (for the scale bar); omit for no scale bar. */
  pixelSizeNm?: number;
  /** Colour range; default the finite min/max of the data. */
  range?: [number, number];
  title?: string;
  /** Unit printed under the colour bar (letters outside the font are dropped). */
  unit?: string;
  /** Screen pixels per data pixel (default: so the image is ≥ 256 px wide). */
  zoom?: number;
  /**
   * Labelled axes with ticks: `x` along the columns (bottom), `y` along the rows (left, row 0 at the top);
   * the value of column c is `start + c·step` (label e.g. `t2 (ms)`).
   */
  axes?: { x: PngAxis; y: PngAxis };
}

export interface PngAxis {
  label: string;
  start: number;
  step: number;
}

/** About `n` round tick values covering [a, b]. */
function ticks(a: number, b: number, n = 5): number[] {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const p10 = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p10).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Math.abs(v) < 1e-12 * step ? 0 : v);
  return out;
}

// Viridis, 9 anchor colours, linearly interpolated.
const VIRIDIS: Array<[number, number, number]> = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

function colour(t: number): [number, number, number] {
  if (!Number.isFinite(t)) return [128, 128, 128];
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

// 3×5 glyphs, rows top to bottom, 3 bits each (4 = left column).
const FONT: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 2, 2], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], '-': [0, 0, 7, 0, 0], '+': [0, 2, 7, 2, 0], ' ': [0, 0, 0, 0, 0], '/': [1, 1, 2, 4, 4],
  '(': [2, 4, 4, 4, 2], ')': [2, 1, 1, 1, 2], '=': [0, 7, 0, 7, 0], ':': [0, 2, 0, 2, 0], '^': [2, 5, 0, 0, 0],
  a: [0, 6, 3, 5, 7], c: [0, 7, 4, 4, 7], d: [1, 7, 5, 5, 7], e: [0, 7, 5, 6, 7], g: [0, 3, 5, 3, 6], h: [4, 7, 5, 5, 5],
  i: [2, 0, 2, 2, 2], l: [6, 2, 2, 2, 7], m: [0, 7, 7, 5, 5], n: [0, 7, 5, 5, 5], o: [0, 7, 5, 5, 7], p: [7, 5, 7, 4, 4],
  r: [0, 7, 4, 4, 4], s: [7, 4, 7, 1, 7], t: [4, 7, 4, 4, 7], u: [0, 5, 5, 5, 7], w: [0, 5, 7, 7, 7], x: [0, 5, 2, 5, 5],
  G: [7, 4, 5, 5, 7], L: [4, 4, 4, 4, 7], N: [5, 7, 7, 5, 5], P: [7, 5, 7, 4, 4], M: [5, 7, 7, 5, 5], H: [5, 5, 7, 5, 5],
  W: [5, 5, 7, 7, 5], F: [7, 4, 6, 4, 4], D: [6, 5, 5, 5, 6], C: [7, 4, 4, 4, 7], S: [7, 4, 7, 1, 7], T: [7, 2, 2, 2, 2],
  k: [4, 5, 6, 5, 5], z: [0, 7, 1, 2, 7], f: [3, 4, 6, 4, 4], y: [0, 5, 7, 1, 6], b: [4, 6, 5, 5, 6], v: [0, 5, 5, 5, 2],
  A: [2, 5, 7, 5, 5], B: [6, 5, 6, 5, 6], E: [7, 4, 6, 4, 7], I: [7, 2, 2, 2, 7], K: [5, 5, 6, 5, 5], O: [7, 5, 5, 5, 7],
  R: [6, 5, 6, 5, 5], U: [5, 5, 5, 5, 7], X: [5, 5, 2, 5, 5], Y: [5, 5, 2, 2, 2], Z: [7, 1, 2, 4, 7], ',': [0, 0, 0, 2, 4],
};

function drawText(png: PNG, text: string, x0: number, y0: number, scale: number, rgb: [number, number, number]): void {
  let x = x0;
  for (const ch of text) {
    const g = FONT[ch] ?? FONT[ch.toLowerCase()];
    if (!g) continue;
    for (let r = 0; r < 5; r++)
      for (let c = 0; c < 3; c++) if (g[r]! & (4 >> c)) fill(png, x + c * scale, y0 + r * scale, scale, scale, rgb);
    x += 4 * scale;
  }
}

function fill(png: PNG, x: number, y: number, w: number, h: number, rgb: [number, number, number]): void {
  for (let j = Math.max(0, y); j < Math.min(png.height, y + h); j++)
    for (let i = Math.max(0, x); i < Math.min(png.width, x + w); i++) {
      const o = (j * png.width + i) * 4;
      png.data[o] = rgb[0];
      png.data[o + 1] = rgb[1];
      png.data[o + 2] = rgb[2];
      png.data[o + 3] = 255;
    }
}

/** Compact number label: 3 significant digits, exponent form outside [1e-2, 1e4). */
export function formatTick(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-2 || a >= 1e4)) {
    const e = Math.floor(Math.log10(a));
    return `${(v / 10 ** e).toFixed(1)}e${e}`;
  }
  return String(Number(v.toPrecision(3)));
}

/** Renders `values` as a PNG file's bytes. */
export function renderMapPng(values: ArrayLike<number>, o: PngImageOptions): Buffer {
  const [ny, nx] = o.shape;
  if (!(ny > 0 && nx > 0) || values.length !== ny * nx) throw new RangeError(`values: length ${values.length} does not match shape [${ny}, ${nx}]`);
  let [lo, hi] = o.range ?? [Infinity, -Infinity];
  if (!o.range)
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi <= lo) hi = lo + 1;
  const zoom = o.zoom ?? Math.max(1, Math.ceil(256 / nx));
  const s = 2; // text scale
  const margin = 8 + (o.axes ? 7 * 4 * s : 0);
  const titleH = o.title ? 5 * s + 8 : 0;
  const imgW = nx * zoom;
  const imgH = ny * zoom;
  const barW = 16;
  const labelW = 9 * 4 * s;
  const width = margin + imgW + 12 + barW + 6 + labelW + margin;
  const height = margin + titleH + imgH + 8 + 5 * s + 8 + (o.axes ? 2 * (5 * s + 10) : 0) + 8;
  const png = new PNG({ width, height });
  fill(png, 0, 0, width, height, [255, 255, 255]);
  const ox = margin;
  const oy = margin + titleH;
  if (o.title) drawText(png, o.title, ox, margin, s, [0, 0, 0]);
  for (let r = 0; r < ny; r++)
    for (let c = 0; c < nx; c++) fill(png, ox + c * zoom, oy + r * zoom, zoom, zoom, colour((values[r * nx + c]! - lo) / (hi - lo)));
  // Colour bar with its range and unit.
  const bx = ox + imgW + 12;
  for (let j = 0; j < imgH; j++) fill(png, bx, oy + j, barW, 1, colour(1 - j / Math.max(1, imgH - 1)));
  drawText(png, formatTick(hi), bx + barW + 6, oy, s, [0, 0, 0]);
  drawText(png, formatTick((lo + hi) / 2), bx + barW + 6, oy + imgH / 2 - 5, s, [0, 0, 0]);
  drawText(png, formatTick(lo), bx + barW + 6, oy + imgH - 5 * s, s, [0, 0, 0]);
  if (o.unit) drawText(png, o.unit, bx, oy + imgH + 8, s, [0, 0, 0]);
  if (o.axes) {
    // Ticks and labels: x under the image, y left of it (values at pixel centres).
    const { x, y } = o.axes;
    const tx = ticks(x.start, x.start + (nx - 1) * x.step);
    for (const v of tx) {
      const px = ox + Math.round(((v - x.start) / x.step + 0.5) * zoom);
      fill(png, px, oy + imgH, 1, 5, [0, 0, 0]);
      const label = formatTick(v);
      drawText(png, label, px - label.length * 2 * s, oy + imgH + 7, s, [0, 0, 0]);
    }
    drawText(png, x.label, ox + imgW / 2 - x.label.length * 2 * s, oy + imgH + 7 + 5 * s + 6, s, [0, 0, 0]);
    const ty = ticks(y.start, y.start + (ny - 1) * y.step);
    for (const v of ty) {
      const py = oy + Math.round(((v - y.start) / y.step + 0.5) * zoom);
      fill(png, ox - 5, py, 5, 1, [0, 0, 0]);
      const label = formatTick(v);
      drawText(png, label, ox - 7 - label.length * 4 * s, py - 2 * s, s, [0, 0, 0]);
    }
    drawText(png, y.label, 4, 8, s, [0, 0, 0]);
  }
  // Scale bar: a round length near a quarter of the field.
  if (o.pixelSizeNm && o.pixelSizeNm > 0) {
    const field = nx * o.pixelSizeNm;
    const target = field / 4;
    const p10 = 10 ** Math.floor(Math.log10(target));
    const len = [5, 2, 1].map((m) => m * p10).find((l) => l <= target) ?? p10;
    const lenPx = Math.round((len / o.pixelSizeNm) * zoom);
    const y = oy + imgH + 8;
    fill(png, ox, y + 2, lenPx, 4, [0, 0, 0]);
    drawText(png, `${formatTick(len)} nm`, ox + lenPx + 6, y, s, [0, 0, 0]);
  }
  return PNG.sync.write(png);
}
