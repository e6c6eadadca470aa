// The page: the rig, the running (or a recorded) session, its live images and curves, and the controls.
// Everything goes through the daemon's control methods (conn.rpc) and its live frames (conn handlers).
import { Connection } from './conn.js';
import { buildForm, formValues } from './form.js';
import { Views } from './views.js';

const $ = (id) => document.getElementById(id);
const FINAL = new Set(['completed', 'aborted', 'failed', 'interrupted']);
const SHOWN_ELSEWHERE = new Set(['id', 'plan', 'state', 'progress', 'params', 'instruments', 'startedAt', 'endedAt']);
const CONTROL = new Set(['sessions.start', 'sessions.pause', 'sessions.resume', 'sessions.abort', 'instruments.call']);

const views = new Views($('views'));
let shown = null; // id of the session on screen
let follow = true; // follow the running session (false while browsing a recorded one)
let plans = [];
let schema = null;
let eta = null; // {id, wall0, done0}
let lastStatus = null;
const page = { received: 0, dropped: 0, finalLoaded: new Set() };
window.qscope = page; // read by the tests and handy in the console

const conn = new Connection({
  onState: (s) => {
    $('conn').textContent = s === 'open' ? 'connected' : 'disconnected';
    $('conn').className = `badge state-${s}`;
    if (s === 'open') void refresh();
  },
  onFrame: (session, header, payload) => {
    page.received++;
    if (session === shown) views.show(header.stream, header, payload);
  },
  onStatus: (status) => {
    page.received++;
    if (follow && status.id !== shown && !FINAL.has(status.state)) showSession(status.id);
    if (status.id === shown) showStatus(status);
  },
  onStats: (s) => {
    page.dropped = s.dropped;
    $('stats').textContent = `received ${page.received} · dropped ${s.dropped} · browsers ${s.clients}`;
    $('stats').dataset.dropped = String(s.dropped);
  },
  onCall: (method, params) => {
    if (CONTROL.has(method)) $('call').textContent = JSON.stringify({ id: 1, method, params });
  },
});

function fmtDuration(s) {
  if (!Number.isFinite(s) || s < 0) return '–';
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function dl(el, entries) {
  el.replaceChildren(
    ...entries.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = typeof v === 'object' ? JSON.stringify(v) : String(v);
      return [dt, dd];
    }),
  );
}

function showStatus(s) {
  lastStatus = s;
  $('session-title').textContent = `${s.plan} · ${s.id}`;
  $('state').textContent = s.state;
  $('state').className = `badge state-${s.state}`;
  const p = s.progress ?? { done: 0 };
  const bar = $('progress');
  bar.max = p.total ?? 1;
  bar.value = p.total ? p.done : FINAL.has(s.state) ? 1 : 0;
  bar.dataset.done = String(p.done);
  // Whatever else the daemon says about progress (a phase, its own estimate …) is shown as it comes.
  const more = Object.entries(p)
    .filter(([k, v]) => !['done', 'total', 'label'].includes(k) && v !== undefined && v !== null)
    .map(([k, v]) => `${k}: ${/Ns$/.test(k) && typeof v === 'number' ? fmtDuration(v / 1e9) : typeof v === 'object' ? JSON.stringify(v) : v}`);
  $('progress-text').textContent = `${p.label ?? p.done}${p.total ? ` (${((100 * p.done) / p.total).toFixed(0)} %)` : ''}${more.length ? ` · ${more.join(' · ')}` : ''}`;
  // Time remaining: measured on this page (wall time per unit of progress) and in experiment time.
  let text = '';
  if (!FINAL.has(s.state) && p.total && p.done > 0) {
    if (!eta || eta.id !== s.id || p.done < eta.done0) eta = { id: s.id, wall0: performance.now(), done0: p.done };
    const expLeft = (s.elapsedNs / 1e9 / p.done) * (p.total - p.done);
    const rate = (p.done - eta.done0) / ((performance.now() - eta.wall0) / 1000);
    const wallLeft = rate > 0 ? (p.total - p.done) / rate : NaN;
    text = `ETA ${fmtDuration(wallLeft)} (experiment time left ≈ ${fmtDuration(expLeft)})`;
  }
  $('eta').textContent = text;
  const extra = Object.entries(s).filter(([k, v]) => !SHOWN_ELSEWHERE.has(k) && v !== undefined && v !== null);
  dl($('session-fields'), [
    ['started', s.startedAt],
    ...(s.endedAt ? [['ended', s.endedAt]] : []),
    ['instruments', Object.entries(s.instruments ?? {}).map(([r, id]) => `${r}: ${id}`).join(', ')],
    ...extra.map(([k, v]) => [k, /Ns$/.test(k) && typeof v === 'number' ? `${(v / 1e9).toFixed(1)} s` : v]),
  ]);
  if (s.params) dl($('session-params'), Object.entries(s.params));
  $('pause').disabled = s.state !== 'running';
  $('resume').disabled = !(s.state === 'paused' || s.state === 'suspended');
  $('abort').disabled = FINAL.has(s.state);
  if (FINAL.has(s.state)) {
    void loadFinal(s.id);
    void refreshSessions();
  }
}

/** The session's recorded results, newest frame of each stream, from the store (complete whatever was dropped live). */
async function loadFinal(id) {
  if (page.finalLoaded.has(id)) return;
  page.finalLoaded.add(id);
  const streams = await conn.rpc('sessions.streams', { id });
  for (const st of streams) {
    if (st.kind !== 'result' || st.count === 0 || id !== shown) continue;
    const { parts } = await conn.call('sessions.frames', { id, stream: st.name, fromSeq: st.count - 1, toSeq: st.count - 1 });
    const last = parts.at(-1);
    if (last && id === shown) views.show(st.name, last.header, last.payload);
  }
  if (id === shown) $('views').dataset.final = id;
}

function showSession(id) {
  shown = id;
  eta = null;
  views.clear();
  delete $('views').dataset.final;
  page.finalLoaded.delete(id);
  void conn.rpc('sessions.status', { id }).then((s) => s.id === shown && showStatus(s)).catch(showError);
}

function showError(err) {
  const errors = err.data?.errors?.map((e) => `${e.path}: ${e.message}`).join('\n');
  $('error').textContent = errors ? `${err.message}` : (err.message ?? String(err));
}

async function act(method, params) {
  $('error').textContent = '';
  try {
    const s = await conn.rpc(method, params);
    if (method === 'sessions.start') {
      follow = true;
      showSession(s.id);
    } else if (s?.id === shown) showStatus(s);
  } catch (err) {
    showError(err);
  }
}

async function selectPlan(name) {
  const d = await conn.rpc('plans.describe', { name });
  schema = d.schema;
  $('plan-description').textContent = d.description ?? '';
  buildForm($('plan-form'), schema);
}

async function refreshSessions() {
  const list = await conn.rpc('sessions.list');
  $('sessions').tBodies[0].replaceChildren(
    ...list
      .slice(-30)
      .reverse()
      .map((s) => {
        const tr = document.createElement('tr');
        tr.dataset.id = s.id;
        for (const v of [s.id, s.plan, s.status]) {
          const td = document.createElement('td');
          td.textContent = v;
          tr.append(td);
        }
        tr.addEventListener('click', () => {
          follow = false;
          showSession(s.id);
        });
        return tr;
      }),
  );
}

async function refreshRig() {
  const st = await conn.rpc('daemon.status');
  const instruments = await conn.rpc('instruments.list');
  $('rig-name').textContent = `v${st.version} · clock ${st.clock}`;
  $('instruments').tBodies[0].replaceChildren(
    ...instruments.map((i) => {
      const tr = document.createElement('tr');
      for (const v of [i.id, i.kind, i.impl]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      const td = document.createElement('td');
      const b = document.createElement('span');
      b.className = `badge state-${i.state}`;
      b.textContent = i.state + (i.owner ? ' (owned)' : '');
      td.append(b);
      if (i.fault) {
        // The typed fault the driver raised: code and message, as in the daemon's log.
        const f = document.createElement('div');
        f.className = 'fault';
        f.textContent = `${i.fault.code ?? 'fault'}: ${i.fault.message ?? ''}`;
        td.append(f);
      }
      tr.append(td);
      return tr;
    }),
  );
  if (follow && st.running && st.running !== shown) showSession(st.running);
  else if (st.session && st.session.id === shown && !FINAL.has(lastStatus?.state)) showStatus(st.session);
}

async function refresh() {
  try {
    plans = await conn.rpc('plans.list');
    const sel = $('plan');
    const keep = sel.value;
    sel.replaceChildren(...plans.map((p) => new Option(p.name, p.name)));
    if (keep) sel.value = keep;
    await selectPlan(sel.value);
    await refreshRig();
    await refreshSessions();
  } catch (err) {
    showError(err);
  }
}

$('plan').addEventListener('change', (e) => void selectPlan(e.target.value));
$('start').addEventListener('click', () => void act('sessions.start', { plan: $('plan').value, params: formValues($('plan-form'), schema) }));
$('pause').addEventListener('click', () => void act('sessions.pause', { id: shown }));
$('resume').addEventListener('click', () => void act('sessions.resume', { id: shown }));
$('abort').addEventListener('click', () => void act('sessions.abort', { id: shown }));
setInterval(() => void refreshRig().catch(() => undefined), 2000);
