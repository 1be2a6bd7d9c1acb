// What a retrain schedule starts (lib/lifecycle/schedule.ts): a schedule tick sends a schedule
// trigger; a data-check tick fingerprints the policy spec's dataset on the CPU fleet and sends a
// data trigger only when the sha256 changed. The lifecycle workflow decides what happens.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities, CpuActivities } from '../activities';
import type { RetrainTickInput } from '../lib/lifecycle/schedule';
import { retryPolicy } from '../lib/workflow-safe/failures';

const control = proxyActivities<ControlActivities>({
  startToCloseTimeout: '1 minute',
  retry: retryPolicy('1 second', 10, '30 seconds'),
});

export async function retrainTick(input: RetrainTickInput): Promise<void> {
  const at = new Date(workflowInfo().startTime).toISOString();
  if (input.check === 'schedule') {
    await control.sendRetrainTrigger({
      model: input.model,
      trigger: { kind: 'schedule', scheduleId: input.scheduleId, at },
    });
    return;
  }
  const ctx = await control.lifecycleContext({ model: input.model });
  const onData = ctx.retrain?.onData;
  if (!ctx.retrain || !onData) return;
  const cpu = proxyActivities<CpuActivities>({
    taskQueue: ctx.queues.cpu,
    startToCloseTimeout: '30 minutes',
    retry: retryPolicy('1 second', 5),
  });
  const { sha256 } = await cpu.fingerprintDataset({ spec: ctx.retrain.spec });
  if (!(await control.noteDatasetFingerprint({ model: input.model, sha256 }))) return;
  await control.sendRetrainTrigger({
    model: input.model,
    trigger: { kind: 'data', dataset: onData.dataset, sha256, at },
  });
}
