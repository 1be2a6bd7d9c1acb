// The train stage: the built-in single-worker trainer as one GPU activity, or a fleet child
// workflow (issue 6) for hyperparameter search, data-parallel training (trainer.workers > 1) and
// the command trainer. Specs without them take the activity path, so existing histories replay
// unchanged.
import { executeChild } from '@temporalio/workflow';
import type { TrainInput, TrainResult } from '../../activities/types';
import { commandTraining } from '../command-training';
import { distributedTraining } from '../distributed-training';
import { hyperparameterSearch } from '../hyperparameter-search';
import type { PipelineActivities } from './activities';
import type { PipelineInput } from './types';

export async function train(input: PipelineInput, acts: PipelineActivities, t: TrainInput): Promise<TrainResult> {
  const trainer = t.spec.trainer;
  return trainer.type === 'command' || (trainer.workers ?? 1) > 1 || !!t.spec.search
    ? await trainAsChild(input, t)
    : await acts.gpu.train(t);
}

/** Training through the fleet child workflows: hyperparameter search, data-parallel builtin, or the command trainer. */
async function trainAsChild(input: PipelineInput, t: TrainInput): Promise<TrainResult> {
  const runId = t.runId;
  const options = {
    heartbeatTimeout: input.options?.trainHeartbeatTimeout,
    retryInitialInterval: input.options?.retryInitialInterval,
    historyLimit: input.options?.trainHistoryLimit,
  };
  const trainer = t.spec.trainer;
  if (t.spec.search) {
    // Hyperparameter search: the best trial's model goes on through evaluation and the gate.
    const r = await executeChild(hyperparameterSearch, {
      workflowId: `${runId}-search`,
      args: [{ ...t, queues: { control: input.queues.control, gpu: input.queues.gpu }, options }],
    });
    const best = r.best;
    if (best.train) return best.train;
    return {
      model: best.onnx!,
      onnx: best.onnx!,
      epochsRun: 0,
      resumedFromEpoch: 0,
      bestEpoch: 0,
      parameterCount: 0,
      final: best.metric === null ? null : { trainLoss: NaN, valLoss: NaN, valMetric: best.metric },
      attempt: 1,
    };
  }
  if (trainer.type === 'command') {
    const r = await executeChild(commandTraining, {
      workflowId: `${runId}-train`,
      args: [
        {
          train: {
            runId,
            trainer: { command: trainer.command ?? [], params: trainer.params, timeout: trainer.timeout },
            task: t.task,
            target: t.spec.target,
            features: t.features,
            shards: [t.train],
          },
          queues: { gpu: input.queues.gpu },
          options,
        },
      ],
    });
    const m = r.metrics;
    return {
      model: r.onnx,
      onnx: r.onnx,
      epochsRun: r.metricLines,
      resumedFromEpoch: 0,
      bestEpoch: r.metricLines,
      parameterCount: 0,
      final:
        m.valMetric !== undefined || m.valLoss !== undefined
          ? { trainLoss: m.trainLoss ?? NaN, valLoss: m.valLoss ?? NaN, valMetric: m.valMetric ?? NaN }
          : null,
      attempt: r.attempt,
    };
  }
  return executeChild(distributedTraining, {
    workflowId: `${runId}-train`,
    args: [{ ...t, queues: { gpu: input.queues.gpu }, options }],
  });
}
