import { SessionReader } from '../../dist/daemon/store/reader.js';
import { Router } from 'zeromq';
const timings = {};
function wrap(obj, name, label) {
  const orig = obj[name];
  Object.defineProperty(obj, name, { configurable: true, writable: true, value: function (...args) {
    const t0 = performance.now();
    const r = orig.apply(this, args);
    (timings[label] ??= []).push(+(performance.now() - t0).toFixed(1));
    return r;
  } });
}
wrap(SessionReader.prototype, 'page', 'page');
wrap(SessionReader.prototype, 'sizes', 'sizes');
wrap(SessionReader.prototype, 'streams', 'streams');
wrap(Router.prototype, 'send', 'router.send(sync part)');
const origStringify = JSON.stringify;
JSON.stringify = function (...a) { const t0 = performance.now(); const r = origStringify.apply(this, a); const d = performance.now() - t0; if (d > 2) (timings.stringify ??= []).push(+d.toFixed(1)); return r; };
globalThis.__probe = timings;
process.on('exit', () => console.error(origStringify(timings)));
