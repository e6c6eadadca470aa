// `npm run bench -- web`: the browser view while an acquisition runs (needs `npm run build:ts`: runs from dist/,
// and Debian's chromium). An in-memory target acquires 4 streams of 1024-value f64 frames (8 KiB) paced at
// RATE frames/s per stream; 0, 1 or 4 headless Chromium pages watch it through the web server (default
// maxFps 20, and 60). Per case: acquisition frames/s achieved, messages/s delivered to each browser (and
// dropped), the daemon's event-loop delay (p50/p99/max) and its CPU time per second — against the same acquisition
// with no browser.
// Chromium shares the machine's cores with the daemon here; it runs at `nice 19` (a wrapper script) so the
// daemon's event-loop delay measures the daemon's own work more than the browsers' rendering competing for CPU
// (`BENCH_BROWSER_NICE=0` runs it at normal priority). Prints one JSON object per case.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { MemoryTarget } from '../../dist/daemon/api/memory-target.js';
import { WebServer } from '../../dist/daemon/web/server.js';

const RATE = 500; // frames/s per stream
const STREAMS = 4;
const WARM_MS = 1500;
const RUN_MS = 5000;
const ARGS = ['--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'];
const NICE = Number(process.env.BENCH_BROWSER_NICE ?? 19);
const chromiumPath = join(mkdtempSync(join(tmpdir(), 'qscope-bench-web-')), 'chromium');
writeFileSync(chromiumPath, `#!/bin/sh\nexec nice -n ${NICE} /usr/bin/chromium "$@"\n`);
chmodSync(chromiumPath, 0o755);
const ms = (ns) => Math.round(ns / 1e4) / 100;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

async function run(browsers, maxFps) {
  const target = new MemoryTarget();
  await target.connect();
  const server = new WebServer(target, { listen: '127.0.0.1:0', maxFps });
  await server.start();
  const browser = browsers ? await chromium.launch({ executablePath: chromiumPath, args: ARGS }) : undefined;
  const pages = [];
  for (let i = 0; i < browsers; i++) {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForSelector('#conn.state-open');
    pages.push(page);
  }
  const s = await target.startSession('stream', { frames: 10_000_000, streams: STREAMS, values: 1024, chunk: 10, rateHz: RATE });
  await sleep(WARM_MS);
  const received0 = await Promise.all(pages.map((p) => p.evaluate(() => window.qscope.received)));
  const stats0 = server.clientStats();
  const done0 = target.sessionStatus(s.id).progress.done;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(RUN_MS);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  const done = target.sessionStatus(s.id).progress.done - done0;
  const received = await Promise.all(pages.map((p, i) => p.evaluate(() => window.qscope.received).then((n) => n - received0[i])));
  const stats = server.clientStats().map((c, i) => ({ sent: c.sent - (stats0[i]?.sent ?? 0), dropped: c.dropped - (stats0[i]?.dropped ?? 0) }));
  await target.abortSession(s.id);
  await browser?.close();
  await server.stop();
  return {
    case: `${browsers} browser${browsers === 1 ? '' : 's'}${browsers ? `, maxFps ${maxFps}` : ''}`,
    acquisitionFramesPerS: Math.round(done / seconds),
    acquisitionTargetFramesPerS: RATE * STREAMS,
    deliveredMessagesPerSPerBrowser: received.map((n) => Math.round(n / seconds)),
    droppedPerSPerBrowser: stats.map((c) => Math.round(c.dropped / seconds)),
    // CPU the daemon process spent per wall second (user + system): the web server's own cost, less sensitive
    // to other processes on the machine than the delays are.
    daemonCpuMsPerS: Math.round((cpu.user + cpu.system) / 1000 / seconds),
    eventLoopDelayMs: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) },
    seconds: Math.round(seconds * 10) / 10,
    browserNice: NICE,
  };
}

// Rounds interleave the cases so each sees the same machine load; the summary gives medians over rounds.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CASES = [[0, 20], [1, 20], [4, 20], [4, 60]];
const results = new Map();
for (let r = 0; r < ROUNDS; r++)
  for (const [browsers, fps] of CASES) {
    const out = await run(browsers, fps);
    console.log(JSON.stringify({ round: r + 1, ...out }));
    if (!results.has(out.case)) results.set(out.case, []);
    results.get(out.case).push(out);
  }
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, runs] of results)
  console.log(
    JSON.stringify({
      summary: name,
      rounds: runs.length,
      acquisitionFramesPerS: median(runs.map((x) => x.acquisitionFramesPerS)),
      deliveredMessagesPerSPerBrowser: median(runs.map((x) => median(x.deliveredMessagesPerSPerBrowser.length ? x.deliveredMessagesPerSPerBrowser : [0]))),
      eventLoopP50Ms: median(runs.map((x) => x.eventLoopDelayMs.p50)),
      eventLoopP99Ms: median(runs.map((x) => x.eventLoopDelayMs.p99)),
      daemonCpuMsPerS: median(runs.map((x) => x.daemonCpuMsPerS)),
    }),
  );
