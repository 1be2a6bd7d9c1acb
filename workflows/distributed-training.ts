// Data-parallel training as a child workflow (`trainer.workers: K`): prepare shards once, then per
// round one shard activity per worker on the GPU queue from the current global state, then an
// averaging activity (weighted by samples) that writes the next global state and checkpoint and
// records the round's metrics; finally the best weights are exported to ONNX. Everything passes by
// artifact reference. The workflow continues as new before its history grows large, carrying only
// references and the round number. A shard whose worker dies misses its heartbeat and is retried
// (on whichever GPU worker polls first), so the round still completes.
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { GpuActivities } from '../activities';
import type { DpPrepared } from '../activities/distributed';
import type { TrainInput, TrainResult } from '../activities/types';
import type { ArtifactRef } from '../lib/store/artifacts';
import { retryPolicy } from '../lib/workflow-safe/failures';

export interface DistributedTrainingInput extends TrainInput {
  queues: { gpu: string };
  options?: {
    /** How soon a dead shard worker is noticed (default 30s). */
    heartbeatTimeout?: Duration;
    retryInitialInterval?: Duration;
    /** Continue as new past this many history events (default 2000). */
    historyLimit?: number;
  };
  /** Carried across continue-as-new. */
  state?: { prepared: DpPrepared; global: ArtifactRef; round: number; generation: number };
}

export interface DistributedTrainingResult extends TrainResult {
  workers: number;
  rounds: number;
  /** Continue-as-new generations this job took (0 = one history). */
  generations: number;
}

export async function distributedTraining(input: DistributedTrainingInput): Promise<DistributedTrainingResult> {
  const o = input.options ?? {};
  const retry = retryPolicy(o.retryInitialInterval ?? '1 second', 10, '30 seconds');
  const gpu = proxyActivities<GpuActivities>({
    taskQueue: input.queues.gpu,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: o.heartbeatTimeout ?? '30 seconds',
    retry,
  });
  const K = input.spec.trainer.workers;
  const base = {
    runId: input.runId,
    spec: input.spec,
    task: input.task,
    features: input.features,
    train: input.train,
    datasetSha256: input.datasetSha256,
  };

  const prepared = input.state?.prepared ?? (await gpu.dpPrepare({ ...base, workers: K }));
  let global = input.state?.global ?? prepared.global;
  let round = input.state?.round ?? 0;
  const generation = input.state?.generation ?? 0;
  const limit = o.historyLimit ?? 2_000;

  while (round < input.spec.trainer.epochs) {
    round++;
    const started = Date.now();
    const shards = await Promise.all(
      prepared.shards.map((shard, index) =>
        gpu.dpTrainShard({ runId: input.runId, plan: prepared.plan, shard, index, global, round })
      )
    );
    const avg = await gpu.dpAverage({
      runId: input.runId,
      plan: prepared.plan,
      val: prepared.val,
      global,
      round,
      updates: shards.map((s) => s.update),
      roundMs: Date.now() - started,
      workers: shards.map((s) => s.worker),
    });
    global = avg.global;
    if (avg.stop) break;
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > limit) {
      await continueAsNew<typeof distributedTraining>({
        ...input,
        state: { prepared, global, round, generation: generation + 1 },
      });
    }
  }

  const result = await gpu.dpFinalize({ ...base, plan: prepared.plan, global });
  return { ...result, workers: K, rounds: round, generations: generation };
}
