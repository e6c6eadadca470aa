#!/usr/bin/env node
// `npm run bench -- NAME`: runs test/bench/NAME.bench.mjs (benchmarks are not tests).
// Each benchmark prints one JSON object per case on stdout.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here).filter((f) => f.endsWith('.bench.mjs')).map((f) => f.replace(/\.bench\.mjs$/, ''));
const name = process.argv[2];
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- NAME   (NAME one of: ${names.join(', ') || 'none yet'})`);
  process.exit(2);
}
const file = join(here, `${name}.bench.mjs`);
if (!existsSync(file)) process.exit(2);
await import(pathToFileURL(file).href);
