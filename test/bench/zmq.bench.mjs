// `npm run bench -- zmq`: the ZeroMQ API on loopback (needs `npm run build:ts` first: runs from dist/).
//  1. control round trip (daemon.status through the ROUTER + dispatcher), p50/p99, idle and during an
//     acquisition; alternative: a bare DEALER/ROUTER echo of the same bytes (no JSON, no dispatcher).
//  2. live data throughput: frames published per second to 1 and 4 subscribers (subscribers in a worker
//     thread, so they do not share the publisher's event loop); alternative: a bare zeromq Publisher
//     sending the same 3-part messages.
// Prints one JSON object per case.
import { Worker } from 'node:worker_threads';
import { Dealer, Router, Publisher } from 'zeromq';
import { ApiServer } from '../../dist/daemon/api/server.js';
import { MemoryTarget } from '../../dist/daemon/api/memory-target.js';
import { makeFrame } from '../../dist/drivers/core/frame.js';

const EPH = { control: 'tcp://127.0.0.1:0', data: 'tcp://127.0.0.1:0' };
const q = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const ms = (x) => Math.round(x * 1000) / 1000;
const tick = () => new Promise((r) => setImmediate(r));

// Round trips on two sockets, interleaved request by request, so both see the same machine load.
async function rttPair(a, b, body, n, warm) {
  const out = [[], []];
  for (let i = 0; i < n + warm; i++) {
    for (const [k, socket] of [a, b].entries()) {
      const t = process.hrtime.bigint();
      await socket.send(body);
      await socket.receive();
      if (i >= warm) out[k].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  const stats = (xs) => ({ p50: ms(q(xs, 0.5)), p90: ms(q(xs, 0.9)), p99: ms(q(xs, 0.99)), n });
  return [stats(out[0]), stats(out[1])];
}

async function bareEcho() {
  const router = new Router({ linger: 0 });
  await router.bind('tcp://127.0.0.1:0');
  (async () => {
    try {
      for await (const [id, body] of router) await router.send([id, body]);
    } catch {}
  })();
  return router;
}

async function controlCases() {
  const target = new MemoryTarget();
  await target.connect();
  const server = new ApiServer(target, { ...EPH, lingerMs: 0 });
  const ep = await server.start();
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(ep.control);
  const echo = await bareEcho();
  const bare = new Dealer({ linger: 0 });
  bare.connect(echo.lastEndpoint);
  const body = JSON.stringify({ id: 1, method: 'daemon.status' });
  const N = 3000;
  const [idle, idleBare] = await rttPair(dealer, bare, body, N, 300);
  console.log(JSON.stringify({ case: 'control RTT idle', api: idle, bareEcho: idleBare, ratioP50: ms(idle.p50 / idleBare.p50) }));

  // During an acquisition: 1 KiB f64 frames paced at 5000 frames/s (bursts of 10), published to one
  // subscriber that reads them in a worker thread.
  const RATE = 5000;
  const subs = await subscribers(1, ep.data);
  await server.data.whenSubscribed('session/');
  const s = await target.startSession('stream', { frames: 10_000_000, values: 128, chunk: 10, rateHz: RATE });
  await tick();
  const f0 = target.sessionStatus(s.id).progress.done;
  const t0 = performance.now();
  const [busy, busyBare] = await rttPair(dealer, bare, body, N, 300);
  const framesPerS = (target.sessionStatus(s.id).progress.done - f0) / ((performance.now() - t0) / 1000);
  await target.abortSession(s.id);
  const [received] = await subs.stop();
  console.log(JSON.stringify({ case: 'control RTT during acquisition', api: busy, bareEcho: busyBare, acquisitionTargetFramesPerS: RATE, acquisitionFramesPerS: Math.round(framesPerS), subscriberReceived: received, published: server.data.stats.sent }));
  dealer.close();
  bare.close();
  echo.close();
  await server.stop();
}

// Subscribers live in a worker: they count messages until told to stop, then the worker exits by itself.
const SUBS_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { Subscriber } = require(workerData.zmq);
const counts = [];
const socks = [];
for (let k = 0; k < workerData.k; k++) {
  const s = new Subscriber({ linger: 0, receiveHighWaterMark: 10000 });
  s.connect(workerData.endpoint);
  s.subscribe('session/');
  socks.push(s);
  counts.push(0);
  (async () => { try { for await (const m of s) counts[k]++; } catch {} })();
}
parentPort.on('message', () => { parentPort.postMessage(counts); for (const s of socks) s.close(); parentPort.close(); });
`;

async function subscribers(k, endpoint) {
  const zmq = (await import('node:module')).createRequire(import.meta.url).resolve('zeromq');
  const worker = new Worker(SUBS_WORKER, { eval: true, workerData: { k, endpoint, zmq } });
  return {
    stop: async () => {
      const counts = await new Promise((res) => {
        worker.once('message', res);
        worker.postMessage('stop');
      });
      await new Promise((r) => worker.once('exit', r));
      return counts;
    },
  };
}

async function throughput(k, publish, endpoint, waitSubscribed) {
  const subs = await subscribers(k, endpoint);
  await waitSubscribed(k);
  const N = 50_000;
  const payload = new Float64Array(128); // 1 KiB
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) {
    for (let j = i; j < i + 1000; j++) publish(makeFrame('bench.signal', j, j * 1000, payload));
    await tick();
  }
  await publish.drained();
  const dt = (performance.now() - t0) / 1000;
  // let the subscribers drain what reached them (bounded wait)
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 10));
  const counts = await subs.stop();
  return { published: N, seconds: ms(dt), framesPerS: Math.round(N / dt), receivedPerSubscriber: counts };
}

async function dataCases() {
  const REPEATS = 3;
  const median = (runs) => runs.slice().sort((a, b) => a.framesPerS - b.framesPerS)[Math.floor(runs.length / 2)];
  for (const k of [1, 4]) {
    const apiRuns = [];
    const bareRuns = [];
    for (let r = 0; r < REPEATS; r++) {
      const server = new ApiServer(new MemoryTarget(), { ...EPH, lingerMs: 0, dataQueueCapacity: 200_000 });
      const ep = await server.start();
      const pub = (f) => server.data.publishFrame('S1', f);
      pub.drained = async () => {
        while (server.data.stats.queued > 0) await tick();
      };
      apiRuns.push(await throughput(k, pub, ep.data, (n) => server.data.whenSubscribed('session/', n)));
      await server.stop();

      const bare = new Publisher({ linger: 0 });
      await bare.bind('tcp://127.0.0.1:0');
      // The alternative: the same 3-part messages, each send awaited in turn (no queue, no XPUB).
      let chain = Promise.resolve();
      const bpub = (f) => {
        const p = f.payload;
        const msg = [`session/S1/${f.header.stream}`, JSON.stringify(f.header), Buffer.from(p.buffer, p.byteOffset, p.byteLength)];
        chain = chain.then(() => bare.send(msg));
      };
      bpub.drained = () => chain;
      // a bare PUB cannot see subscriptions: give the connections a moment (bounded) before publishing
      bareRuns.push(
        await throughput(k, bpub, bare.lastEndpoint, async () => {
          for (let i = 0; i < 30; i++) await new Promise((r) => setTimeout(r, 10));
        }),
      );
      bare.close();
    }
    const api = median(apiRuns);
    const base = median(bareRuns);
    console.log(JSON.stringify({ case: `publish 1 KiB frames to ${k} subscriber(s), median of ${REPEATS}`, api, barePublisher: base, ratio: ms(api.framesPerS / base.framesPerS) }));
  }
}

const { loadavg } = await import('node:os');
console.log(JSON.stringify({ case: 'machine', loadAverage1m: loadavg()[0] }));
await controlCases();
await dataCases();
console.log(JSON.stringify({ case: 'machine', loadAverage1m: loadavg()[0] }));
process.exit(0);
