// Hyperparameter search (spec.search): grid or random trials, each a child workflow whose training
// runs on the GPU queue (built-in trainer, data-parallel when trainer.workers > 1, or the command
// trainer), at most `parallelism` at once. Every trial is recorded; failed trials are tolerated
// unless all fail; the best trial is picked by its validation metric (higher is better: accuracy,
// R² for regression; a command trainer reports it as `valMetric`, else -valLoss is used).
import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { ControlActivities, GpuActivities } from '../activities';
import type { RunSpec, TrainInput, TrainResult } from '../activities/types';
import type { ArtifactRef } from '../lib/store/artifacts';
import {
  applyTrial,
  bestTrial,
  planTrials,
  type Trial,
  type TrialOutcome,
} from '../lib/workflow-safe/hyperparameter-search';
import { commandTraining, commandTrainingInput } from './command-training';
import { distributedTraining } from './distributed-training';
import { FAILURE, retryPolicy } from '../lib/workflow-safe/failures';

/** The training data (`train`, a frame artifact) is the command trainer's CSV shard. */
export interface SearchInput extends TrainInput {
  queues: { control: string; gpu: string };
  options?: { heartbeatTimeout?: Duration; retryInitialInterval?: Duration; maximumAttempts?: number };
}

export interface TrialInput extends Omit<SearchInput, 'spec'> {
  spec: RunSpec;
  index: number;
  values: Trial;
}

export interface TrialResult extends TrialOutcome {
  runId: string;
  /** ONNX model of the trial (succeeded trials). */
  onnx: ArtifactRef | null;
  /** What the trial's trainer handed on, whichever trainer it was (null: the trial failed). */
  train: TrainResult | null;
}

export interface SearchResult {
  best: TrialResult;
  trials: TrialResult[];
  failed: number;
}

/** The trial's score: its validation metric (higher is better), else minus its validation loss. */
function metricOf(final: TrainResult['final']): number | null {
  if (Number.isFinite(final?.valMetric)) return final!.valMetric;
  if (Number.isFinite(final?.valLoss)) return -final!.valLoss!;
  return null;
}

/** One trial: the spec with the trial's values, trained on the GPU queue. */
export async function searchTrial(input: TrialInput): Promise<TrialResult> {
  const runId = workflowInfo().workflowId;
  const trainer = input.spec.trainer;
  const o = input.options ?? {};
  const base = { index: input.index, values: input.values, runId };
  if (trainer.type === 'command') {
    const t: TrainResult = await executeChild(commandTraining, {
      workflowId: `${runId}-command`,
      args: [commandTrainingInput(runId, input, input.queues.gpu, o, { trial: input.index })],
    });
    return { ...base, status: 'succeeded', metric: metricOf(t.final), onnx: t.onnx, train: t };
  }
  const trainInput = {
    runId,
    spec: input.spec,
    task: input.task,
    features: input.features,
    train: input.train,
    datasetSha256: input.datasetSha256,
  };
  let t: TrainResult;
  if (trainer.workers > 1) {
    t = await executeChild(distributedTraining, {
      workflowId: `${runId}-dp`,
      args: [{ ...trainInput, queues: { gpu: input.queues.gpu }, options: o }],
    });
  } else {
    const gpu = proxyActivities<GpuActivities>({
      taskQueue: input.queues.gpu,
      startToCloseTimeout: '24 hours',
      heartbeatTimeout: o.heartbeatTimeout ?? '1 minute',
      retry: retryPolicy(o.retryInitialInterval ?? '1 second', o.maximumAttempts ?? 5),
    });
    t = await gpu.train(trainInput);
  }
  return { ...base, status: 'succeeded', metric: metricOf(t.final), onnx: t.onnx, train: t };
}

function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

export async function hyperparameterSearch(input: SearchInput): Promise<SearchResult> {
  const search = input.spec.search;
  if (!search) throw ApplicationFailure.nonRetryable('the spec has no search block', FAILURE.RunSpecError);
  const control = proxyActivities<ControlActivities>({
    taskQueue: input.queues.control,
    startToCloseTimeout: '1 minute',
    retry: retryPolicy('1 second', 10),
  });
  const plan = planTrials(search);
  const results: TrialResult[] = new Array(plan.length);
  let next = 0;
  const runOne = async (index: number) => {
    const values = plan[index];
    const spec: RunSpec = { ...input.spec, search: undefined, trainer: applyTrial(input.spec.trainer, values) };
    const workflowId = `${input.runId}-trial-${index}`;
    try {
      results[index] = await executeChild(searchTrial, { workflowId, args: [{ ...input, spec, index, values }] });
    } catch (err) {
      results[index] = {
        index,
        values,
        runId: workflowId,
        status: 'failed',
        metric: null,
        error: rootMessage(err).slice(0, 2_000),
        onnx: null,
        train: null,
      };
    }
    const r = results[index];
    await control.recordSearchTrial({ runId: input.runId, index, values, status: r.status, metric: r.metric });
  };
  // A pool of `parallelism` lanes, each taking the next trial in order.
  const lanes = Array.from({ length: Math.min(search.parallelism, plan.length) }, async () => {
    while (next < plan.length) await runOne(next++);
  });
  await Promise.all(lanes);
  const best = bestTrial(results);
  const failed = results.filter((r) => r.status === 'failed').length;
  if (!best) {
    throw ApplicationFailure.nonRetryable(
      `all ${plan.length} search trials failed; first error: ${results[0]?.error ?? 'unknown'}`,
      FAILURE.SearchFailed
    );
  }
  return { best, trials: results, failed };
}
