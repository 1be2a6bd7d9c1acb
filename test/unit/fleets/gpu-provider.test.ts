// The GPU worker's two decisions that need no GPU to check: which execution provider it trains
// with (and the reason it logs), and how it reads nvidia-smi's CSV into the GPU metrics.
import { selectExecutionProvider } from '../../../lib/hardware/execution-provider';
import { parseNvidiaSmi } from '../../../lib/hardware/gpus';

describe('execution provider selection', () => {
  const gpuImage = { gpus: 2, cudaProviderInstalled: true };
  it('uses CUDA where a GPU is visible and the provider is installed (the GPU image on a GPU node)', () => {
    expect(selectExecutionProvider('auto', gpuImage)).toMatchObject({ provider: 'cuda', degraded: false });
    expect(selectExecutionProvider('cuda', gpuImage).provider).toBe('cuda');
  });
  it('falls back to the CPU, saying which part is missing', () => {
    const noGpu = selectExecutionProvider('auto', { gpus: 0, cudaProviderInstalled: true });
    expect(noGpu).toMatchObject({ provider: 'cpu', degraded: false });
    expect(noGpu.reason).toMatch(/no GPU visible/);
    const cpuImage = selectExecutionProvider('auto', { gpus: 1, cudaProviderInstalled: false });
    expect(cpuImage.provider).toBe('cpu');
    expect(cpuImage.reason).toMatch(/--target app-gpu/);
  });
  it('flags a CUDA request it cannot honour as degraded, and honours an explicit cpu', () => {
    expect(selectExecutionProvider('cuda', { gpus: 0, cudaProviderInstalled: false })).toMatchObject({
      provider: 'cpu',
      degraded: true,
    });
    expect(selectExecutionProvider('cpu', gpuImage)).toMatchObject({ provider: 'cpu', degraded: false });
  });
});

// Output of `nvidia-smi --query-gpu=index,name,memory.total,memory.used,utilization.gpu
// --format=csv,noheader,nounits` in the shapes the driver prints: plain rows, and rows of a MIG
// or vGPU device where a field is "[N/A]" or "[Not Supported]".
const H100_PAIR = '0, NVIDIA H100 80GB HBM3, 81559, 40213, 97\n1, NVIDIA H100 80GB HBM3, 81559, 4, 0\n';
const MIG = '0, NVIDIA A100-SXM4-40GB, 40960, 12, [N/A]\n1, GRID T4-16Q, [Not Supported], 0, 0\n';

describe('nvidia-smi parsing', () => {
  it('reads index, name, memory and utilisation per GPU', () => {
    expect(parseNvidiaSmi(H100_PAIR)).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, memoryUsedMiB: 40213, utilizationPct: 97 },
      { index: 1, name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, memoryUsedMiB: 4, utilizationPct: 0 },
    ]);
  });
  it('keeps a GPU whose field is unavailable, with that one value unknown (NaN), and skips junk lines', () => {
    const gpus = parseNvidiaSmi(`${MIG}No devices were found\n\n`);
    expect(gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(gpus[0].utilizationPct).toBeNaN();
    expect(gpus[1].memoryTotalMiB).toBeNaN();
    expect(gpus[0].memoryUsedMiB).toBe(12);
  });
});
