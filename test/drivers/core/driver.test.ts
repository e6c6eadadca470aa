import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { DisconnectedError, DriverError } from '../../../drivers/core/errors.js';
import { SimulatedDriver } from '../../../drivers/core/simulated.js';
import { SimWorld } from '../../../drivers/core/world.js';
import type { DriverState } from '../../../drivers/core/driver.js';

class Dwell extends SimulatedDriver {
  readonly kind = 'dwell';
  connects = 0;
  protected override async doConnect(): Promise<void> {
    this.connects++;
    await super.doConnect();
  }
  override readonly commands = { dwell: { description: 'wait', params: {}, mutating: false } };
  async dwell(ms: number): Promise<void> {
    await this.operation('dwell');
    try {
      await this.wait(ms);
    } catch (err) {
      throw this.fail(err);
    }
  }
  async command_dwell(): Promise<void> {
    await this.dwell(1);
  }
}

function rig(faults = {}) {
  const clock = new VirtualClock();
  const world = new SimWorld({ seed: 1, clock });
  const driver = new Dwell('d0', world, faults);
  const states: DriverState[] = [];
  driver.state$.subscribe((s) => states.push(s));
  return { clock, driver, states };
}

describe('Driver / SimulatedDriver', () => {
  it('an operation cancelled by a requested disconnect rejects but leaves the state disconnected, not fault', async () => {
    const { driver, states } = rig();
    await driver.connect();
    const pending = driver.dwell(1000);
    await driver.disconnect();
    await expect(pending).rejects.toBeInstanceOf(DisconnectedError);
    expect(driver.state).toBe('disconnected');
    expect(states).not.toContain('fault');
  });

  it('an injected disconnect faults once; a reconnect then stays up', async () => {
    const { clock, driver } = rig({ disconnectAtMs: 50 });
    await driver.connect();
    await expect(driver.dwell(100)).rejects.toBeInstanceOf(DisconnectedError);
    expect(driver.state).toBe('fault');
    expect(clock.now()).toBe(50);
    await driver.connect();
    await driver.dwell(100);
    expect(driver.state).toBe('ready');
    expect(clock.now()).toBe(150);
  });

  it('concurrent connect() calls share one attempt', async () => {
    const { driver } = rig();
    await Promise.all([driver.connect(), driver.connect(), driver.connect()]);
    expect(driver.state).toBe('ready');
    expect(driver.connects).toBe(1);
  });

  it('call() refuses names that are not declared commands, inherited ones included', async () => {
    const { driver } = rig();
    await driver.connect();
    await expect(driver.call('constructor', {})).rejects.toThrow(/unknown command 'constructor'/);
    await expect(driver.call('toString', {})).rejects.toBeInstanceOf(DriverError);
    await expect(driver.call('dwell', {})).resolves.toBeUndefined();
  });
});
