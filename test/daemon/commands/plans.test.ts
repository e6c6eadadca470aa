/** The CLI explains itself: `plans`, `plans show NAME` from the plan's schema, did-you-mean for plans and parameters. */
import { describe, expect, it } from 'vitest';
import { listPlans, showPlan } from '../../../daemon/commands/plans.js';
import type { CommandIO } from '../../../daemon/commands/io.js';
import { didYouMean, ParamsValidator } from '../../../pipelines/core/params.js';

function captureIO(): CommandIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', progress: false, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

describe('qscope plans', () => {
  it('lists one line per registered plan', async () => {
    const io = captureIO();
    expect(await listPlans({}, io)).toBe(0);
    const lines = io.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(expect.arrayContaining(['antibunching-scan', 'cosy-2d']));
    expect(lines.every((l) => /^\S+\s+v\S+\s+\S/.test(l))).toBe(true);
  });

  it('shows every parameter with unit, default, range and description from the schema', async () => {
    const io = captureIO();
    expect(await showPlan('antibunching-scan', {}, io)).toBe(0);
    expect(io.stdout).toMatch(/^antibunching-scan v\d+: /);
    expect(io.stdout).toMatch(/instruments: scanner \(piezo\), correlator \(hbt\)/);
    expect(io.stdout).toMatch(/\n\s+nx\s+integer\s+32\s+≥ 2, ≤ 256\s+pixels along x\n/);
    expect(io.stdout).toMatch(/\n\s+calibrationS\s+number\s+s\s+1800\s+≥ 1, ≤ 36000\s+calibration histogram/);
    expect(io.stdout).toMatch(/\n\s+method\s+string\s+"pooled"\s+one of [a-z-]+( \| [a-z-]+)+\s+estimator/);
    const json = captureIO();
    await showPlan('cosy-2d', { json: true }, json);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'cosy-2d', schema: { type: 'object' } });
  });

  it('an unknown plan lists the valid ones with a did-you-mean; exit 2', async () => {
    const io = captureIO();
    expect(await showPlan('antibunching', {}, io)).toBe(2);
    expect(io.stderr).toMatch(/^qscope plans show: unknown plan 'antibunching' \(did you mean 'antibunching-scan'\? plans: antibunching-scan, /);
    expect(io.stderr).toMatch(/plans: .*cosy-2d/);
    const far = captureIO();
    await showPlan('zzzzzzzzzz', {}, far);
    expect(far.stderr).not.toMatch(/did you mean/);
  });

  it('an unknown parameter lists the valid ones with a did-you-mean', () => {
    const v = new ParamsValidator({ type: 'object', properties: { nx: { type: 'integer', unit: '1' }, dwellS: { type: 'number', unit: 's' } } });
    expect(() => v.validate({ dwellMs: 5 })).toThrow("params: unknown parameter 'dwellMs' (did you mean 'dwellS'? parameters: nx, dwellS)");
    expect(didYouMean('NX', ['nx', 'ny'])).toBe('nx');
    expect(didYouMean('calibration', ['calibrationS', 'nx'])).toBe('calibrationS');
    expect(didYouMean('qqqqqq', ['nx', 'ny'])).toBeUndefined();
  });
});
