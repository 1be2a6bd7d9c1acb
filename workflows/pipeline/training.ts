// The train stage: the built-in single-worker trainer as one GPU activity, or a fleet child
// workflow (issue 6) for hyperparameter search, data-parallel training (trainer.workers > 1) and
// the command trainer. Specs without them take the activity path, so existing histories replay
// unchanged. Every path hands on the TrainResult its trainer computed, nothing made up here.
import { ApplicationFailure, executeChild } from '@temporalio/workflow';
import { FAILURE } from '../../lib/workflow-safe/failures';
import type { TrainInput, TrainResult } from '../../activities/types';
import { commandTraining, commandTrainingInput } from '../command-training';
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
    // A search succeeds only with a succeeded best trial, and every succeeded trial has its TrainResult.
    if (!r.best.train)
      throw ApplicationFailure.nonRetryable(
        `the best search trial ${r.best.runId} handed on no TrainResult (it ran before trials did); run the search again`,
        FAILURE.SearchFailed
      );
    return r.best.train;
  }
  if (trainer.type === 'command') {
    return executeChild(commandTraining, {
      workflowId: `${runId}-train`,
      args: [commandTrainingInput(runId, t, input.queues.gpu, options)],
    });
  }
  return executeChild(distributedTraining, {
    workflowId: `${runId}-train`,
    args: [{ ...t, queues: { gpu: input.queues.gpu }, options }],
  });
}
