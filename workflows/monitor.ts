// One monitoring window of one model, started by the model's Temporal Schedule
// (lib/monitoring/schedule.ts) or by hand. All the work is one CPU-queue activity; the workflow
// only fixes the time the window is computed for (its own clock, so a replay and a retry agree on
// the window) and gives the activity its timeouts and retries.
import { proxyActivities } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { CpuActivities } from '../activities';
import type { MonitorWindowResult } from '../activities/monitoring';
import { retryPolicy } from '../lib/workflow-safe/failures';

export interface MonitorModelInput {
  model: string;
  queues: { cpu: string };
  options?: { retryInitialInterval?: Duration };
}

export async function monitorModel(input: MonitorModelInput): Promise<MonitorWindowResult> {
  const acts = proxyActivities<CpuActivities>({
    taskQueue: input.queues.cpu,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    retry: retryPolicy(input.options?.retryInitialInterval ?? '1 second', 5),
  });
  return acts.monitorWindow({ model: input.model, at: Date.now() });
}
