// Defence in depth for data residency: a worker of region A refuses any activity of a run in
// region B, whatever queue it arrived on. The run's region travels in the activity header that
// workflows/interceptors.ts sets; an activity without one belongs to no region.
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { REGION_HEADER } from '../lib/workflow-safe/queues';
import { FAILURE } from '../lib/workflow-safe/failures';

const shown = (region: string) => (region ? `region '${region}'` : 'no region');

export function regionGuard(workerRegion: string | undefined): ActivityInterceptorsFactory {
  const mine = workerRegion ?? '';
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const header = input.headers[REGION_HEADER];
        const runRegion = header ? String(defaultPayloadConverter.fromPayload(header) ?? '') : '';
        if (runRegion !== mine) {
          const { activityType, workflowExecution, taskQueue } = ctx.info;
          const runId = workflowExecution?.workflowId ?? '?';
          throw ApplicationFailure.nonRetryable(
            `worker of ${shown(mine)} refused activity ${activityType} of run ${runId} in ` +
              `${shown(runRegion)} (it arrived on '${taskQueue}'): data residency; route the run to its region's queues`,
            FAILURE.RegionMismatch
          );
        }
        return next(input);
      },
    },
  });
}
