// Child workflow of the `command` trainer: one activity on the GPU queue that runs the team's own
// process (docs/trainers.md). Its retry policy never retries bad input (exit 65) or a process
// that exits 0 without a model; cancellation waits until the process group is dead.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { CommandTrainInput, CommandTrainResult } from '../activities/command-trainer';
import type { GpuActivities } from '../activities';
import type { Feature, RunSpec, Task } from '../activities/types';
import type { ArtifactRef } from '../lib/store/artifacts';
import { retryPolicy } from '../lib/workflow-safe/failures';

export interface CommandTrainingInput {
  train: CommandTrainInput;
  queues: { gpu: string };
  options?: {
    /** How soon a dead worker is noticed (default 30s); the process must not stall heartbeats. */
    heartbeatTimeout?: Duration;
    retryInitialInterval?: Duration;
    maximumAttempts?: number;
  };
}

/** The input of a command training of `t`'s spec on its training frame, as run `runId`. */
export function commandTrainingInput(
  runId: string,
  t: { spec: RunSpec; task: Task; features: Feature[]; train: ArtifactRef },
  gpuQueue: string,
  options: CommandTrainingInput['options'],
  extra?: Record<string, unknown>
): CommandTrainingInput {
  const trainer = t.spec.trainer;
  return {
    train: {
      runId,
      trainer: { command: trainer.command ?? [], params: trainer.params, timeout: trainer.timeout },
      task: t.task,
      target: t.spec.target,
      features: t.features,
      shards: [t.train],
      ...(extra && { extra }),
    },
    queues: { gpu: gpuQueue },
    options,
  };
}

export async function commandTraining(input: CommandTrainingInput): Promise<CommandTrainResult> {
  const o = input.options ?? {};
  const acts = proxyActivities<GpuActivities>({
    taskQueue: input.queues.gpu,
    // The process has its own time limit; give the activity a little more to clean up.
    startToCloseTimeout: input.train.trainer.timeout + 60_000,
    heartbeatTimeout: o.heartbeatTimeout ?? '30 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: retryPolicy(o.retryInitialInterval ?? '1 second', o.maximumAttempts ?? 3),
  });
  return acts.commandTrain(input.train);
}
