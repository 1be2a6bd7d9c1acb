// The one bootstrap every fleet worker shares. A fleet is a hardware kind with its own
// task queue: control runs workflows plus history/registry activities, gpu trains, cpu
// prepares data, evaluates and optimises. Each registers only its own activities.
import os from 'node:os';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '../lib/config';
import type { GpuInfo } from '../lib/hardware/gpus';
import { createDataConverter } from '../lib/temporal/connection';
import { regionQueue } from '../lib/workflow-safe/queues';
import { regionGuard } from './region-guard';
import { WORKFLOW_INTERCEPTOR_MODULES } from './workflow-bundle';

export type FleetKind = 'control' | 'gpu' | 'cpu';

export interface FleetWorkerOptions {
  kind: FleetKind;
  cfg: Config;
  connection: NativeConnection;
  activities: object;
  /** Control fleet only: a prebuilt bundle (tests bundle once per run); default bundles workflows/. */
  workflowBundle?: { codePath: string } | { code: string };
  /** Default: createDataConverter(cfg), the encrypting one every process shares (benchmarks compare without). */
  dataConverter?: DataConverter;
  gpus?: GpuInfo[];
}

export function fleetQueue(kind: FleetKind, cfg: Config): string {
  return regionQueue(cfg.queues[kind], cfg.MLOPS_WORKER_REGION);
}

/** One training job per GPU (or one on the CPU path); CPU work per core; env overrides. */
export function fleetConcurrency(kind: FleetKind, cfg: Config, gpus: GpuInfo[], cores = os.cpus().length): number {
  if (kind === 'gpu') return cfg.MLOPS_GPU_CONCURRENCY || Math.max(gpus.length, 1);
  if (kind === 'cpu') return cfg.MLOPS_CPU_CONCURRENCY || Math.max(cores, 1);
  return 100;
}

export function workerIdentity(kind: FleetKind, gpus: GpuInfo[]): string {
  const hardware = kind === 'gpu' && gpus.length ? `${gpus.length}x ${gpus[0].name}` : `${os.cpus().length} cpu`;
  return `${kind}@${os.hostname()}/${process.pid} (${hardware})`;
}

export async function createFleetWorker(opts: FleetWorkerOptions): Promise<Worker> {
  const { kind, cfg } = opts;
  const gpus = opts.gpus ?? [];
  const workflows =
    kind === 'control'
      ? opts.workflowBundle
        ? { workflowBundle: opts.workflowBundle }
        : { workflowsPath: require.resolve('../workflows') }
      : {};
  return Worker.create({
    connection: opts.connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue: fleetQueue(kind, cfg),
    identity: workerIdentity(kind, gpus),
    activities: opts.activities,
    interceptors: {
      activity: [regionGuard(cfg.MLOPS_WORKER_REGION)],
      // A prebuilt bundle carries them already (workers/workflow-bundle.ts).
      ...(opts.workflowBundle ? {} : { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
    },
    dataConverter: opts.dataConverter ?? (await createDataConverter(cfg)),
    maxConcurrentActivityTaskExecutions: fleetConcurrency(kind, cfg, gpus),
    shutdownGraceTime: cfg.MLOPS_WORKER_SHUTDOWN_GRACE_MS,
    // Past the grace time in-flight activities are cancelled; give them a little longer to
    // settle, then stop regardless (an activity that never returns must not hang shutdown).
    shutdownForceTime: cfg.MLOPS_WORKER_SHUTDOWN_GRACE_MS + 10_000,
    ...workflows,
  });
}
