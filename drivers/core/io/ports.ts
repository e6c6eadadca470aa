/**
 * Serial ports on this machine. `SerialPort.list()` runs `udevadm`, which is
 * absent on many machines (containers, minimal installs): then, or when it
 * finds nothing, the stable names under /dev/serial/by-id and the
 * /dev/ttyUSB* and /dev/ttyACM* devices are listed instead.
 */
import { readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

export interface SerialPortInfo {
  /** The path to put in `address: serial:PATH` (the by-id name when there is one: it survives re-plugging). */
  path: string;
  /** The device node it points to. */
  device: string;
  manufacturer?: string;
  serialNumber?: string;
  /** How it was found. */
  source: 'serialport' | 'by-id' | 'dev';
}

export interface ListOptions {
  /** Root of the device tree (tests). */
  devDir?: string;
  /** Skip SerialPort.list() (tests, or when it is known to fail). */
  skipUdev?: boolean;
}

export async function listSerialPorts(opts: ListOptions = {}): Promise<{ ports: SerialPortInfo[]; note?: string }> {
  const devDir = opts.devDir ?? '/dev';
  let note: string | undefined;
  let listed: SerialPortInfo[] = [];
  if (!opts.skipUdev) {
    try {
      const { SerialPort } = await import('serialport');
      listed = (await SerialPort.list()).map((p) => ({
        path: p.path,
        device: p.path,
        ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
        ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
        source: 'serialport' as const,
      }));
    } catch (err) {
      note = `SerialPort.list() failed (${(err as Error).message.split('\n')[0]}); scanned ${devDir}/serial/by-id and ${devDir}/tty{USB,ACM}* instead`;
    }
  }
  const scanned = scanDev(devDir);
  // by-id names first (stable across re-plugging), then nodes nobody named.
  const byDevice = new Map<string, SerialPortInfo>();
  for (const p of [...scanned.filter((s) => s.source === 'by-id'), ...listed, ...scanned.filter((s) => s.source === 'dev')]) {
    if (!byDevice.has(p.device)) byDevice.set(p.device, p);
  }
  return { ports: [...byDevice.values()], ...(note ? { note } : {}) };
}

function scanDev(devDir: string): SerialPortInfo[] {
  const out: SerialPortInfo[] = [];
  const byId = join(devDir, 'serial', 'by-id');
  for (const name of safeReaddir(byId)) {
    const path = join(byId, name);
    let device = path;
    try {
      device = realpathSync(path);
    } catch {
      continue; // a dangling link: the device went away
    }
    out.push({ path, device, source: 'by-id' });
  }
  for (const name of safeReaddir(devDir).filter((n) => /^tty(USB|ACM)\d+$/.test(n)).sort()) {
    const path = join(devDir, name);
    out.push({ path, device: path, source: 'dev' });
  }
  return out;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
