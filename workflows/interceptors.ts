// Carries the run's region from the workflow to everything it schedules, so that a worker can
// refuse work of another region (workers/region-guard.ts) even if a routing bug sent it there.
// The region comes from the top-level input (`PipelineInput.region`) or, in a child workflow,
// from the header its parent set. Headers are plain routing metadata, outside payload encryption.
// The workflow itself refuses to run on another region's control queue.
import {
  ApplicationFailure,
  defaultPayloadConverter,
  workflowInfo,
  type WorkflowInterceptors,
} from '@temporalio/workflow';
import type { Headers } from '@temporalio/common';
import { queueRegion, REGION_HEADER } from '../lib/workflow-safe/queues';
import { FAILURE } from '../lib/workflow-safe/failures';

function withRegion(headers: Headers, region: string): Headers {
  return { ...headers, [REGION_HEADER]: defaultPayloadConverter.toPayload(region) };
}

function regionOf(headers: Headers, args: unknown[]): string {
  const header = headers[REGION_HEADER];
  if (header) return String(defaultPayloadConverter.fromPayload(header) ?? '');
  const input = args[0] as { region?: unknown } | undefined;
  return typeof input?.region === 'string' ? input.region : '';
}

const shown = (region: string) => (region ? `region '${region}'` : 'no region');

/** Called once per workflow execution: `region` is that execution's. */
export const interceptors = (): WorkflowInterceptors => {
  let region = '';
  return {
    inbound: [
      {
        // async: a throw must reject (failing the run), not fail the workflow task (retried forever).
        async execute(input, next) {
          region = regionOf(input.headers, input.args);
          const { taskQueue, workflowId } = workflowInfo();
          if (queueRegion(taskQueue) !== region) {
            throw ApplicationFailure.nonRetryable(
              `run ${workflowId} is in ${shown(region)} but was started on task queue '${taskQueue}', which serves ` +
                `${shown(queueRegion(taskQueue))}: refused for data residency; start it on the region's control queue`,
              FAILURE.RegionMismatch
            );
          }
          return next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => next({ ...input, headers: withRegion(input.headers, region) }),
        scheduleLocalActivity: (input, next) => next({ ...input, headers: withRegion(input.headers, region) }),
        startChildWorkflowExecution: (input, next) => next({ ...input, headers: withRegion(input.headers, region) }),
        // The next run of a long training gets its region from this header too.
        continueAsNew: (input, next) => next({ ...input, headers: withRegion(input.headers, region) }),
      },
    ],
  };
};
