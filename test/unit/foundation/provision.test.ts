import { compareVersions, parseVersion } from '../../../tools/provision/semver';
import { parseNvidiaSmi } from '../../../lib/hardware/gpus';
import { fleetConcurrency, workerIdentity } from '../../../workers/bootstrap';
import { loadConfig } from '../../../lib/config';

describe('provisioning helpers', () => {
  it('compares versions numerically', () => {
    expect(compareVersions('1.10.0', '1.9.1')).toBe(1);
    expect(compareVersions('1.5.1', '1.5.1')).toBe(0);
    expect(compareVersions('1.4', '1.5.0')).toBe(-1);
  });
  it('reads the version out of tool output', () => {
    expect(parseVersion('temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)')).toBe('1.9.1');
    expect(parseVersion('no digits here')).toBeUndefined();
  });
});

describe('fleet sizing', () => {
  const gpu = { index: 0, name: 'NVIDIA H100', memoryTotalMiB: 81559, memoryUsedMiB: 3, utilizationPct: 0 };
  it('parses nvidia-smi CSV', () => {
    expect(parseNvidiaSmi('0, NVIDIA H100 80GB HBM3, 81559, 3, 0\n1, NVIDIA H100 80GB HBM3, 81559, 100, 57\n')).toEqual(
      [
        { index: 0, name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, memoryUsedMiB: 3, utilizationPct: 0 },
        { index: 1, name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, memoryUsedMiB: 100, utilizationPct: 57 },
      ]
    );
  });
  it('runs one training job per GPU, one without GPUs, and CPU work per core', () => {
    const cfg = loadConfig({});
    expect(fleetConcurrency('gpu', cfg, [gpu, { ...gpu, index: 1 }])).toBe(2);
    expect(fleetConcurrency('gpu', cfg, [])).toBe(1);
    expect(fleetConcurrency('cpu', cfg, [], 16)).toBe(16);
    expect(fleetConcurrency('cpu', loadConfig({ MLOPS_CPU_CONCURRENCY: '3' }), [], 16)).toBe(3);
  });
  it('puts host and hardware in the identity', () => {
    expect(workerIdentity('gpu', [gpu])).toMatch(/^gpu@.+\/\d+ \(1x NVIDIA H100\)$/);
    expect(workerIdentity('cpu', [])).toMatch(/cpu@.+ \(\d+ cpu\)$/);
  });
});
