/** An in-process daemon (real rig simulators, engine, ZeroMQ API and web view) and a headless Chromium for the web tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import WebSocket from 'ws';
import { loadConfig } from '../../../daemon/config.js';
import { Daemon } from '../../../daemon/daemon.js';
import type { ApiService } from '../../../daemon/api/service.js';
import type { EngineService } from '../../../daemon/engine/service.js';
import type { WebService } from '../../../daemon/web/service.js';
import { createLogger } from '../../../drivers/core/log.js';
import { defaultConfig } from '../helpers.js';

/** The Chromium flags every browser test uses (no GPU, nothing phoning home). */
export const CHROMIUM_ARGS = ['--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** The default rig on a scaled clock (`speed` experiment seconds per wall second), every port ephemeral, no demo. */
export async function startDaemon(opts: { speed: number; web?: Record<string, unknown> }) {
  const dir = mkdtempSync(join(tmpdir(), 'qscope-web-'));
  const config = await loadConfig(defaultConfig);
  config.log = { level: 'silent' };
  config.sessions = { ...(config.sessions as object), dir, minFreeMiB: 0 };
  config.api = { control: 'tcp://127.0.0.1:0', data: 'tcp://127.0.0.1:0', lingerMs: 0 };
  config.web = { listen: '127.0.0.1:0', ...opts.web };
  const daemon = new Daemon({ config, log: createLogger({ level: 'silent' }), speed: opts.speed, runDemo: false });
  await daemon.start();
  const web = daemon.services.find((s) => s.name === 'web') as WebService;
  const engine = (daemon.services.find((s) => s.name === 'engine') as EngineService).engine!;
  const api = (daemon.services.find((s) => s.name === 'api') as ApiService).server;
  if (!web.server || !api) throw new Error('web or api service did not start');
  return {
    daemon,
    web: web.server,
    api,
    engine,
    dir,
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A raw HTTP GET with chosen headers (fetch cannot set Host). */
export function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket with chosen headers; resolves 'open' or the refusal's HTTP status. */
export function openSocket(port: number, headers: Record<string, string>): Promise<{ outcome: 'open'; ws: WebSocket } | { outcome: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
    ws.once('open', () => resolve({ outcome: 'open', ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ outcome: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ outcome: -1 }));
  });
}
