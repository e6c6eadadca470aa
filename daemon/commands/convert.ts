/**
 * `qscope convert ptu FILE.ptu --out DIR`: a PicoQuant PTU recording → an
 * `hbt-scan` dataset folder for `qscope reconstruct g2`. Exit 0 done,
 * 2 bad input (usage, foreign/truncated/corrupt file; nothing written).
 */
import type { Command } from 'commander';
import type { PtuConvertOptions } from '../../pipelines/antibunching/ptu/convert.js';
import { EXIT, isInputError, message, processIO, type CommandIO } from './io.js';

export interface PtuFlags {
  out: string;
  channels?: string;
  bins: string;
  rangeNs: string;
  windowS: string;
  pixels?: string;
  lineStartMarker: string;
  lineStopMarker: string;
  frameMarker: string;
  pixelSizeNm: string;
}

export function register(program: Command): void {
  const convert = program.command('convert').description('turn recordings from other software into dataset folders');
  convert
    .command('ptu')
    .description('PicoQuant PTU (T2/T3 records of PicoHarp, HydraHarp, MultiHarp, TimeHarp 260) → hbt-scan dataset (start–stop histograms)')
    .argument('<file>', 'the .ptu file')
    .requiredOption('-o, --out <dir>', 'output folder (created; must be empty)')
    .option('--channels <A,B>', 'start and stop detector channels (default: the two lowest channels with photons)')
    .option('--bins <n>', 'delay bins', '215')
    .option('--range-ns <ns>', 'delay range, centred on zero delay', '500')
    .option('--window-s <s>', 'single spot: one histogram per window of this length', '1')
    .option('--pixels <NX,NY>', 'scan: pixels per line and lines per frame (turns on marker-delimited pixels)')
    .option('--line-start-marker <m>', 'scan: marker number of a line start', '1')
    .option('--line-stop-marker <m>', 'scan: marker number of a line stop', '2')
    .option('--frame-marker <m>', 'scan: marker number of a frame start (0: none, a frame is NY lines)', '3')
    .option('--pixel-size-nm <nm>', 'pixel size written to the manifest', '100')
    .action(async (file: string, flags: PtuFlags) => {
      process.exitCode = await convertPtuCommand(file, flags, processIO);
    });
}

function num(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new RangeError(`${flag}: not a number: '${v}'`);
  return n;
}

function pair(flag: string, v: string): [number, number] {
  const parts = v.split(',');
  if (parts.length !== 2) throw new RangeError(`${flag}: expected two comma-separated integers, got '${v}'`);
  return [num(flag, parts[0]!), num(flag, parts[1]!)];
}

/** Flags → converter options (RangeError naming the flag). */
export function ptuOptions(f: PtuFlags): PtuConvertOptions {
  const o: PtuConvertOptions = {
    bins: num('--bins', f.bins),
    rangeNs: num('--range-ns', f.rangeNs),
    windowS: num('--window-s', f.windowS),
    pixelSizeNm: num('--pixel-size-nm', f.pixelSizeNm),
  };
  if (f.channels !== undefined) o.channels = pair('--channels', f.channels);
  if (f.pixels !== undefined) {
    const [nx, ny] = pair('--pixels', f.pixels);
    o.scan = { nx, ny, lineStart: num('--line-start-marker', f.lineStartMarker), lineStop: num('--line-stop-marker', f.lineStopMarker), frame: num('--frame-marker', f.frameMarker) };
  }
  return o;
}

export async function convertPtuCommand(file: string, flags: PtuFlags, io: CommandIO): Promise<number> {
  try {
    const options = ptuOptions(flags);
    const { checkOptions } = await import('../../pipelines/antibunching/ptu/convert.js');
    checkOptions(options);
    const { convertPtuInWorker } = await import('../../pipelines/antibunching/ptu/convert-client.js');
    const r = await convertPtuInWorker(file, flags.out, options);
    io.out(
      `${r.out}: hbt-scan ${r.shape.join('×')} px × ${r.k} window${r.k === 1 ? '' : 's'} of ${r.integrationS} s from ${r.recordType} ` +
        `(${r.records} records, channels ${r.channels.join(',')}: ${r.photons} photons, ${r.events} coincidences${r.droppedLines ? `, ${r.droppedLines} lines beyond ${r.shape[0]} dropped` : ''})\n`,
    );
    return EXIT.ok;
  } catch (err) {
    io.err(`qscope convert ptu: ${message(err)}\n`);
    return isInputError(err) ? EXIT.badInput : EXIT.notCompleted;
  }
}
