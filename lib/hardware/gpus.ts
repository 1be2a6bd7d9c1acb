// GPU discovery through nvidia-smi. No nvidia-smi, or no device, means the CPU path.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface GpuInfo {
  index: number;
  name: string;
  memoryTotalMiB: number;
  memoryUsedMiB: number;
  utilizationPct: number;
}

const QUERY = 'index,name,memory.total,memory.used,utilization.gpu';

export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [index, name, total, used, util] = line.split(',').map((f) => f.trim());
      return {
        index: Number(index),
        name,
        memoryTotalMiB: Number(total),
        memoryUsedMiB: Number(used),
        utilizationPct: Number(util),
      };
    })
    .filter((g) => Number.isInteger(g.index));
}

export async function discoverGpus(): Promise<GpuInfo[]> {
  try {
    const { stdout } = await promisify(execFile)(
      'nvidia-smi',
      [`--query-gpu=${QUERY}`, '--format=csv,noheader,nounits'],
      { timeout: 10_000 }
    );
    return parseNvidiaSmi(stdout);
  } catch {
    return [];
  }
}
