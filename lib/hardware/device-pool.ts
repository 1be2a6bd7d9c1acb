// Hands each GPU job on a worker its own device: CUDA_VISIBLE_DEVICES=<index> while the job runs.
// The worker's activity concurrency is one job per GPU (workers/bootstrap.ts), so a job never waits
// here in practice; if it does, it waits for the next free device. No GPU: null (the CPU path).
import { discoverGpus } from './gpus';

export interface DeviceLease {
  /** GPU indexes for CUDA_VISIBLE_DEVICES, e.g. "0". */
  visible: string;
  release(): void;
}

export class DevicePool {
  private free: number[];
  private waiters: ((i: number) => void)[] = [];
  constructor(indexes: number[]) {
    this.free = [...indexes];
  }
  get size(): number {
    return this.free.length;
  }
  async acquire(): Promise<DeviceLease> {
    const index = this.free.length ? this.free.shift()! : await new Promise<number>((r) => this.waiters.push(r));
    let released = false;
    return {
      visible: String(index),
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters.shift();
        if (next) next(index);
        else this.free.push(index);
      },
    };
  }
}

let shared: Promise<DevicePool | null> | undefined;

/** The process's pool, from nvidia-smi once. */
export function devicePool(): Promise<DevicePool | null> {
  shared ??= (async () => {
    const indexes = (await discoverGpus()).map((g) => g.index);
    return indexes.length ? new DevicePool(indexes) : null;
  })();
  return shared;
}

/** Leases a device for one job, or null with no GPU. */
export async function leaseDevice(): Promise<DeviceLease | null> {
  const pool = await devicePool();
  return pool ? pool.acquire() : null;
}
