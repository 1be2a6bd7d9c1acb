// Durable materialization of one feature view version over a time range. The range is cut into
// fixed partitions (lib/workflow-safe/feature-partitions.ts); the first activity says which are already done
// (a re-run of the same range and version finds all of them and does nothing), the rest run on
// the CPU queue at most `parallelism` at once, each heartbeating and retried on a lost worker.
// A partition is recorded once, after its artifact and online upserts are written, so a killed
// worker's partition is redone in full and never counted twice. Progress is a query.
import { ApplicationFailure, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { CpuActivities } from '../activities';
import { planPartitions } from '../lib/workflow-safe/feature-partitions';
import { FAILURE, retryPolicy } from '../lib/workflow-safe/failures';
import { materializationProgressQuery, type MaterializationProgress } from './feature-messages';

export interface FeatureMaterializationInput {
  materializationId: string;
  view: string;
  version: number;
  start: number;
  end: number;
  partitionMs: number;
  parallelism: number;
  queues: { control: string; cpu: string };
  options?: { heartbeatTimeout?: Duration; retryInitialInterval?: Duration };
}

export interface FeatureMaterializationResult extends MaterializationProgress {
  materializationId: string;
}

export async function featureMaterialization(
  input: FeatureMaterializationInput
): Promise<FeatureMaterializationResult> {
  const cpu = proxyActivities<CpuActivities>({
    taskQueue: input.queues.cpu,
    scheduleToStartTimeout: '1 day',
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: input.options?.heartbeatTimeout ?? '30 seconds',
    retry: retryPolicy(input.options?.retryInitialInterval ?? '1 second', 10, '30 seconds'),
  });
  const partitions = planPartitions(input.start, input.end, input.partitionMs);
  const ref = { materializationId: input.materializationId, view: input.view, version: input.version };
  const { done } = await cpu.openFeatureMaterialization({
    ...ref,
    start: input.start,
    end: input.end,
    partitionsTotal: partitions.length,
    workflowId: workflowInfo().workflowId,
  });
  const doneSet = new Set(done);
  const todo = partitions.filter((p) => !doneSet.has(p.start));
  const progress: MaterializationProgress = {
    partitionsDone: partitions.length - todo.length,
    partitionsTotal: partitions.length,
    rows: 0,
    skipped: partitions.length - todo.length,
  };
  setHandler(materializationProgressQuery, () => progress);
  let next = 0;
  const lane = async () => {
    while (next < todo.length) {
      const partition = todo[next++];
      const r = await cpu.materializeFeaturePartition({ ...ref, partition });
      progress.partitionsDone++;
      progress.rows += r.rows;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(input.parallelism, todo.length) }, lane));
  } catch (err) {
    const message = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    await cpu.closeFeatureMaterialization({ ...ref, status: 'failed', error: message });
    throw ApplicationFailure.create({
      message: `materialization failed: ${message}`,
      type: FAILURE.DatasetError,
      nonRetryable: true,
    });
  }
  await cpu.closeFeatureMaterialization({ ...ref, status: 'succeeded' });
  return { materializationId: input.materializationId, ...progress };
}
