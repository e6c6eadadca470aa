// One panel per stream. Known streams of the experiments get titles, units and ranges; anything else gets
// the generic view: a heat map for 2D payloads, a line plot for 1D vectors, a trace over time for scalars,
// a table for vectors with named columns. A live map (`<p>.live_<name>`) and the final one (`<p>.<name>`)
// share a panel: the final replaces the live one when it arrives.
import uPlot from '/vendor/uplot.js';
import { HeatMap } from './heatmap.js';

const KNOWN = {
  'g2.pl': { title: 'PL', unit: 'counts/s', order: 1 },
  'g2.G2': { title: 'G2 = N²(1 − g2)', unit: '(counts/s)²', order: 2 },
  'g2.g2': { title: 'g2(0)', unit: '1', range: [0, 1.2], order: 3 },
  'g2.dwell_s': { title: 'dwell', unit: 's', order: 4 },
  'g2.fit': { title: 'current pixel: histogram and fit', xLabel: 'delay (ns)', order: 5 },
  'g2.g2_std': { title: 'σ g2(0)', unit: '1', order: 6 },
  'g2.G2_std': { title: 'σ G2', unit: '(counts/s)²', order: 7 },
  'g2.crb': { title: 'Cramér–Rao bound of g2(0)', unit: '1', order: 8 },
  'cosy.mask': { title: 'sampled (t1, t2) mask', unit: '1', range: [0, 1], order: 1 },
  'cosy.map': { title: 'DLMC reconstruction', unit: 'a.u.', order: 2 },
  'cosy.spectrum': { title: '2D spectrum', unit: 'a.u.', order: 3 },
};

/** Streams not worth a panel (PNG renderings of arrays shown anyway). */
function hidden(stream, header) {
  return header.format === 'png';
}

/** The panel a stream goes to: `g2.live_pl` and `g2.pl` share `g2.pl`. */
export function slotOf(stream) {
  return stream.replace(/\.live_/, '.');
}

function figure(container, title, order) {
  const fig = document.createElement('figure');
  fig.style.order = String(order ?? 50);
  const cap = document.createElement('figcaption');
  const name = document.createElement('span');
  name.textContent = title;
  const sub = document.createElement('span');
  sub.className = 'sub';
  cap.append(name, ' ', sub);
  fig.append(cap);
  container.append(fig);
  return { fig, sub };
}

class MapView {
  constructor(container, slot, spec) {
    const { fig, sub } = figure(container, spec.title ?? slot, spec.order);
    this.fig = fig;
    this.sub = sub;
    this.map = new HeatMap(fig, spec);
    this.map.canvas.dataset.stream = slot;
  }
  update(stream, header, payload) {
    this.map.draw(payload, header.shape, header);
    this.map.canvas.dataset.source = stream;
    this.map.canvas.dataset.seq = String(header.seq);
    this.sub.textContent = `${stream} #${header.seq}${header.live ? ' (live)' : header.method ? ` (${header.method})` : ''} · t = ${(header.t / 1e9).toFixed(1)} s`;
  }
}

class LineView {
  /** rows: how many series the payload holds (a [rows, n] payload is several curves on one x axis). */
  constructor(container, slot, spec, header) {
    const { fig, sub } = figure(container, spec.title ?? slot, spec.order);
    this.sub = sub;
    this.fig = fig;
    const rows = header.shape.length === 2 ? header.shape[0] : 1;
    const names = header.rows ?? header.columns ?? Array.from({ length: rows }, (_, i) => (rows > 1 ? `row ${i}` : slot));
    const colours = ['#3b528b', '#e6550d', '#5ec962', '#7b4173'];
    this.plot = new uPlot(
      {
        width: 330,
        height: 220,
        legend: { show: rows > 1 },
        scales: { x: { time: false } },
        axes: [{ label: spec.xLabel ?? (header.binWidthNs ? 'delay (ns)' : 'index') }, { label: header.unit ?? spec.unit ?? '' }],
        series: [{}, ...names.slice(0, rows).map((n, i) => ({ label: String(n), stroke: colours[i % colours.length], width: 1.5, points: { show: false } }))],
      },
      [[], ...names.slice(0, rows).map(() => [])],
      fig,
    );
    this.plot.root.dataset.stream = slot;
  }
  update(stream, header, payload) {
    const rows = header.shape.length === 2 ? header.shape[0] : 1;
    const n = header.shape.at(-1);
    const w = Number(header.binWidthNs);
    const zero = Number(header.zeroBin ?? 0);
    const x = Array.from({ length: n }, (_, i) => (w > 0 ? (i - zero) * w : i));
    const ys = [];
    for (let r = 0; r < rows; r++) ys.push(Array.from(payload.subarray(r * n, (r + 1) * n)));
    this.plot.setData([x, ...ys]);
    this.plot.root.dataset.seq = String(header.seq);
    const extra = header.g2 !== undefined ? ` · pixel ${header.pixel}, g2(0) = ${Number(header.g2).toFixed(2)} ± ${header.g2Std == null ? '∞' : Number(header.g2Std).toFixed(2)}, ${header.events} events` : '';
    this.sub.textContent = `${stream} #${header.seq}${extra}`;
  }
}

class TraceView {
  constructor(container, slot, spec) {
    const { fig, sub } = figure(container, spec.title ?? slot, spec.order);
    this.sub = sub;
    this.x = [];
    this.y = [];
    this.plot = new uPlot(
      { width: 330, height: 160, legend: { show: false }, scales: { x: { time: false } }, axes: [{ label: 't (s)' }, { size: 60 }], series: [{}, { stroke: '#3b528b', width: 1.5, points: { show: false } }] },
      [[], []],
      fig,
    );
  }
  update(stream, header, payload) {
    this.x.push(header.t / 1e9);
    this.y.push(payload[0]);
    if (this.x.length > 1000) (this.x.shift(), this.y.shift());
    this.plot.setData([this.x, this.y]);
    this.sub.textContent = `${stream} = ${Number(payload[0]).toPrecision(4)}`;
  }
}

class TableView {
  constructor(container, slot, spec) {
    const { fig, sub } = figure(container, spec.title ?? slot, spec.order ?? 60);
    this.sub = sub;
    this.table = document.createElement('table');
    this.table.className = 'values';
    fig.append(this.table);
  }
  update(stream, header, payload) {
    const names = header.columns ?? [];
    this.table.replaceChildren(
      ...Array.from(payload, (v, i) => {
        const tr = document.createElement('tr');
        const a = document.createElement('td');
        const b = document.createElement('td');
        a.textContent = names[i] ?? String(i);
        b.textContent = Number.isFinite(v) ? Number(v).toPrecision(4) : String(v);
        tr.append(a, b);
        return tr;
      }),
    );
    this.sub.textContent = `#${header.seq}`;
  }
}

/** The panels of one session; frames are drawn at most once per animation frame (newest wins). */
export class Views {
  constructor(container) {
    this.container = container;
    this.views = new Map();
    this.latest = new Map();
    this.scheduled = false;
  }

  clear() {
    this.container.replaceChildren();
    this.views.clear();
    this.latest.clear();
  }

  show(stream, header, payload) {
    if (hidden(stream, header) || !payload) return;
    const slot = slotOf(stream);
    const current = this.latest.get(slot);
    // A final map is not replaced by a late live one.
    if (current && header.live && !current.header.live && current.stream !== stream) return;
    this.latest.set(slot, { stream, header, payload, dirty: true });
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.render());
    }
  }

  render() {
    this.scheduled = false;
    for (const [slot, item] of this.latest) {
      if (!item.dirty) continue;
      item.dirty = false;
      let view = this.views.get(slot);
      if (!view) {
        view = this.create(slot, item.header);
        if (!view) continue;
        this.views.set(slot, view);
      }
      try {
        view.update(item.stream, item.header, item.payload);
      } catch (err) {
        console.warn(`view ${slot}:`, err);
      }
    }
  }

  create(slot, header) {
    const spec = KNOWN[slot] ?? {};
    const shape = header.shape ?? [];
    const n = shape.reduce((a, b) => a * b, 1);
    if (shape.length === 2 && (header.rows || shape[0] <= 4) && shape[1] > 8) return new LineView(this.container, slot, spec, header);
    if (shape.length === 2) return new MapView(this.container, slot, spec);
    if (shape.length === 1 && (header.columns || (n > 1 && n <= 8))) return new TableView(this.container, slot, spec);
    if (n === 1) return new TraceView(this.container, slot, spec);
    if (shape.length === 1) return new LineView(this.container, slot, spec, header);
    return undefined;
  }
}
