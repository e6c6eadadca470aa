// A heat map on a 2D canvas: the array through a colour look-up table, a colour bar with its unit, and a
// scale bar when the frame says how large a pixel is (`pixelSizeNm`). Pixels without a value (NaN) are grey.

// Anchors of the viridis colour map (matplotlib) at 0, 1/8, …, 1; the LUT interpolates between them.
const ANCHORS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'].map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
export const LUT = new Uint8ClampedArray(256 * 3);
for (let i = 0; i < 256; i++) {
  const x = (i / 255) * (ANCHORS.length - 1);
  const k = Math.min(Math.floor(x), ANCHORS.length - 2);
  const f = x - k;
  for (let c = 0; c < 3; c++) LUT[i * 3 + c] = Math.round(ANCHORS[k][c] * (1 - f) + ANCHORS[k + 1][c] * f);
}
export const NAN_RGB = [200, 200, 200];

const MAP = 240; // map area, CSS px (the longer side)
const BAR_W = 12;
const W = MAP + 90;
const H = MAP + 34;

function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e4 || a < 1e-2) ? v.toExponential(2) : v.toPrecision(3);
}

function niceLength(nm) {
  const p = 10 ** Math.floor(Math.log10(nm));
  for (const m of [5, 2, 1]) if (m * p <= nm) return m * p;
  return p;
}

export class HeatMap {
  constructor(container, { unit = '', range } = {}) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'heatmap';
    this.canvas.width = W;
    this.canvas.height = H;
    container.append(this.canvas);
    this.unit = unit;
    this.range = range;
    this.small = document.createElement('canvas');
  }

  /** Draws `values` (C-order, shape [ny, nx]). */
  draw(values, shape, header = {}) {
    const [ny, nx] = shape;
    let lo = Infinity;
    let hi = -Infinity;
    let finite = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isFinite(v)) {
        finite++;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (this.range) [lo, hi] = this.range;
    if (!(hi > lo)) hi = lo + 1;
    this.small.width = nx;
    this.small.height = ny;
    const sctx = this.small.getContext('2d');
    const img = sctx.createImageData(nx, ny);
    for (let i = 0; i < nx * ny; i++) {
      const v = values[i];
      const o = i * 4;
      if (Number.isFinite(v)) {
        const k = Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255))) * 3;
        img.data[o] = LUT[k];
        img.data[o + 1] = LUT[k + 1];
        img.data[o + 2] = LUT[k + 2];
      } else [img.data[o], img.data[o + 1], img.data[o + 2]] = NAN_RGB;
      img.data[o + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);

    const ctx = this.canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    const s = MAP / Math.max(nx, ny);
    const mw = nx * s;
    const mh = ny * s;
    ctx.imageSmoothingEnabled = false;
    // Row 0 at the bottom (y up), as on the PNGs.
    ctx.save();
    ctx.translate(0, mh);
    ctx.scale(1, -1);
    ctx.drawImage(this.small, 0, 0, mw, mh);
    ctx.restore();
    this.mapArea = { x: 0, y: 0, w: mw, h: mh };

    // Colour bar with min / max and the unit.
    const bx = MAP + 10;
    for (let y = 0; y < MAP; y++) {
      const k = Math.round((1 - y / (MAP - 1)) * 255) * 3;
      ctx.fillStyle = `rgb(${LUT[k]},${LUT[k + 1]},${LUT[k + 2]})`;
      ctx.fillRect(bx, y, BAR_W, 1);
    }
    ctx.fillStyle = '#222';
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText(fmt(hi), bx + BAR_W + 4, 10);
    ctx.fillText(fmt(lo), bx + BAR_W + 4, MAP);
    ctx.save();
    ctx.translate(bx + BAR_W + 12, MAP / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(header.unit ?? this.unit, 0, 0);
    ctx.restore();

    // Scale bar.
    const px = Number(header.pixelSizeNm);
    if (px > 0) {
      const nm = niceLength((nx * px) / 4);
      const len = (nm / px) * s;
      ctx.fillRect(4, mh + 10, len, 4);
      ctx.fillText(nm >= 1000 ? `${nm / 1000} µm` : `${nm} nm`, 8 + len, mh + 16);
    }
    ctx.fillStyle = '#777';
    ctx.fillText(`${ny}×${nx}${finite < nx * ny ? `, ${finite} measured` : ''}`, 4, H - 4);
    this.canvas.dataset.finite = String(finite);
  }
}
