// GPU queue: training through the built-in trainer. Seeded; heartbeats every epoch with
// progress and metrics (and on a timer, so a slow epoch does not look like a dead worker);
// checkpoints to the artifact store; a retried attempt (e.g. after its worker was killed)
// resumes from the last checkpoint instead of epoch 0.
import { Context } from '@temporalio/activity';
import { decodeFrame } from '../lib/ml/dataset';
import { providerUsed } from '../lib/ml/ort';
import { PIPELINE_EXPORT } from '../lib/ml/export';
import {
  CheckpointMismatchError,
  exportOnnx,
  serializeModel,
  train as trainModel,
  type TrainedModel,
  type TrainSpec,
} from '../lib/ml';
import { MEDIA, putArtifact, readArtifact } from '../lib/store/artifacts';
import { latestCheckpoint, saveCheckpoint } from '../lib/store/checkpoints';
import { recordMetric } from '../lib/store/metrics';
import { updateRun } from '../lib/store/runs';
import { codeVersion } from './common';
import { cancellationSignal, currentAttempt, heartbeat, tracked, type ActivityDeps } from './common';
import type { TrainInput, TrainResult } from './types';

/** Heartbeat details: what the last epoch reported. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  trainLoss?: number;
  valLoss?: number;
  valMetric?: number;
  resumedFromEpoch: number;
}

export function trainSpecFor(input: Pick<TrainInput, 'spec' | 'task' | 'features'>, memoryLimitMb?: number): TrainSpec {
  const t = input.spec.trainer;
  return {
    task: input.task,
    target: input.spec.target,
    features: input.features,
    model: t.model === 'mlp' ? { kind: 'mlp', hidden: t.hidden } : { kind: 'linear' },
    epochs: t.epochs,
    batchSize: t.batchSize,
    learningRate: t.learningRate,
    l2: t.l2,
    patience: t.patience,
    validationFraction: t.validationFraction,
    seed: t.seed,
    memoryLimitMb,
  };
}

/**
 * Trains on from the checkpoint, or from scratch when there is none or it was made for another spec
 * or data shape (should not happen for one run, but a stale checkpoint must not fail the run).
 */
export async function trainFromCheckpoint<T>(
  run: (checkpoint?: Uint8Array) => Promise<T>,
  checkpoint: Uint8Array | undefined
): Promise<T> {
  try {
    return await run(checkpoint);
  } catch (err) {
    if (checkpoint && err instanceof CheckpointMismatchError) return await run(undefined);
    throw err;
  }
}

/**
 * Writes a trained model the way every trainer of the builtin kind hands it on: the model and its
 * ONNX export (with lineage metadata) in the artifact store, the run's training summary, and the
 * TrainResult the pipeline registers. `trainer` names a trainer other than the single-worker one
 * in the ONNX metadata.
 */
export async function storeTrainedModel(
  deps: ActivityDeps,
  input: Pick<TrainInput, 'runId' | 'spec' | 'datasetSha256'>,
  model: TrainedModel,
  attempt: number,
  trainer?: string
): Promise<TrainResult> {
  const label = (kind: string) => ({ kind, runId: input.runId });
  const modelRef = await putArtifact(deps.store, serializeModel(model), MEDIA.model, label('model'));
  const metadata: Record<string, string> = {
    'mlops.model_name': input.spec.model,
    'mlops.run_id': input.runId,
    'mlops.dataset_sha256': input.datasetSha256,
    'mlops.code_version': codeVersion(),
    ...(trainer ? { 'mlops.trainer': trainer } : {}),
  };
  const onnxRef = await putArtifact(
    deps.store,
    exportOnnx(model, metadata, PIPELINE_EXPORT),
    MEDIA.onnx,
    label('onnx')
  );
  const { epochsRun, resumedFromEpoch, bestEpoch } = model;
  await updateRun(deps.store, input.runId, { training: { epochsRun, resumedFromEpoch, bestEpoch } });
  const last = model.history[model.history.length - 1];
  return {
    model: modelRef,
    onnx: onnxRef,
    epochsRun,
    resumedFromEpoch,
    bestEpoch,
    parameterCount: model.parameterCount,
    classes: model.classes,
    final: last ? { trainLoss: last.trainLoss, valLoss: last.valLoss, valMetric: last.valMetric } : null,
    attempt,
  };
}

export function createTrainActivities(deps: ActivityDeps) {
  return {
    async train(input: TrainInput): Promise<TrainResult> {
      return tracked(
        deps,
        input.runId,
        'train',
        async () => {
          const attempt = currentAttempt();
          const frame = decodeFrame(await readArtifact(deps.store, input.train));
          const spec = {
            ...trainSpecFor(input, deps.cfg.MLOPS_TRAIN_MEMORY_MB),
            executionProvider: deps.executionProvider,
          };
          const saved = await latestCheckpoint(deps.store, input.runId, 'train');
          let checkpoint: Uint8Array | undefined;
          if (saved) {
            try {
              checkpoint = await readArtifact(deps.store, saved.ref);
            } catch {
              checkpoint = undefined; // a lost or damaged checkpoint costs time, not the run
            }
          }
          const progress: TrainProgress = {
            epoch: saved?.epoch ?? 0,
            epochs: spec.epochs,
            resumedFromEpoch: saved?.epoch ?? 0,
          };
          heartbeat(progress);
          // Keep heartbeating while an epoch runs (session.run is async, so the loop stays free).
          const timer = setInterval(() => heartbeat(progress), 2_000);
          try {
            const run = (ck?: Uint8Array) =>
              trainModel(frame, spec, {
                checkpoint: ck,
                checkpointEvery: input.spec.trainer.checkpointEvery,
                signal: cancellationSignal(),
                onEpoch: async (info) => {
                  Object.assign(progress, {
                    epoch: info.epoch,
                    trainLoss: info.trainLoss,
                    valLoss: info.valLoss,
                    valMetric: info.valMetric,
                  });
                  heartbeat(progress);
                  await recordMetric(deps.store, {
                    runId: input.runId,
                    series: 'train',
                    step: info.epoch,
                    attempt,
                    values: {
                      trainLoss: info.trainLoss,
                      valLoss: info.valLoss,
                      valMetric: info.valMetric,
                      samplesPerSec: info.samplesPerSec,
                    },
                  });
                  await deps.hooks?.afterEpoch?.(info.epoch, input.runId);
                },
                onCheckpoint: async (bytes, epoch) => {
                  const ref = await putArtifact(deps.store, bytes, MEDIA.checkpoint, {
                    kind: 'checkpoint',
                    runId: input.runId,
                  });
                  await saveCheckpoint(deps.store, { runId: input.runId, step: 'train', epoch, ref, attempt });
                },
              });
            const model = await trainFromCheckpoint(run, checkpoint);
            // The worker chose CUDA at start; say so when a session still ended up on the CPU.
            if (spec.executionProvider === 'cuda' && providerUsed !== 'cuda')
              Context.current().log.warn('training ran on the CPU: the CUDA provider failed to create a session');
            return await storeTrainedModel(deps, input, model, attempt);
          } finally {
            clearInterval(timer);
          }
        },
        (r) => ({
          epochsRun: r.epochsRun,
          resumedFromEpoch: r.resumedFromEpoch,
          bestEpoch: r.bestEpoch,
          parameters: r.parameterCount,
        }),
        { autoHeartbeat: false }
      );
    },
  };
}
