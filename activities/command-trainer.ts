// GPU queue: the `command` trainer. Runs any process that follows lib/trainers/command.ts's
// contract (docs/trainers.md): writes the data shard(s) as CSV and a params JSON into an input
// folder, restores the last checkpoint folder, forwards stdout JSON lines to the run's metrics,
// stores checkpoints the process announces, heartbeats while it runs, and stores model.onnx.
// Cancellation and timeouts kill the whole process group. Exit 65 = bad input, never retried.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { CONFIG_VARS } from '../lib/config';
import { leaseDevice } from '../lib/hardware/device-pool';
import { decodeFrame } from '../lib/ml/dataset';
import { assertOnnxModel, ModelFormatError, onnxInitializerElements } from '../lib/ml/model-format';
import { MEDIA, putArtifact, readArtifact, type ArtifactRef } from '../lib/store/artifacts';
import { latestCheckpoint, saveCheckpoint } from '../lib/store/checkpoints';
import { recordMetric } from '../lib/store/metrics';
import { updateRun } from '../lib/store/runs';
import { CommandTrainerError, epochOf, finalMetrics, metricsOf, runCommand } from '../lib/trainers/command';
import { frameToCsv, packFolder, unpackFolder } from '../lib/trainers/files';
import { cancellationSignal, currentAttempt, heartbeat, tracked, type ActivityDeps } from './common';
import type { Feature, Task, TrainResult } from './types';
import { FAILURE } from '../lib/workflow-safe/failures';

export interface CommandTrainInput {
  runId: string;
  /** Run step name for events, checkpoints and the metrics series (default "train"). */
  step?: string;
  trainer: { command: string[]; params: Record<string, unknown>; timeout: number };
  task?: Task;
  target?: string;
  features?: Feature[];
  /** Training data as frame artifacts (one per shard); empty = the process brings its own data. */
  shards: ArtifactRef[];
  /** Extra fields for the params JSON (e.g. a search trial's index). */
  extra?: Record<string, unknown>;
}

/**
 * A TrainResult from what the process printed and wrote (epochs and losses it did not print are
 * null; parameterCount comes from its model.onnx), plus the command trainer's own facts.
 */
export interface CommandTrainResult extends TrainResult {
  /** The last value of each metric the process printed. */
  metrics: Record<string, number>;
  metricLines: number;
  attempt: number;
  resumedFromCheckpoint: boolean;
  seconds: number;
  device: string | null;
}

/** Heartbeat details while the process runs. */
export interface CommandProgress {
  pid: number | null;
  elapsedMs: number;
  metricLines: number;
  last: Record<string, number> | null;
}

/** The worker's environment minus its secrets (user code never sees database or payload keys). */
export function trainerEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const [name, spec] of Object.entries(CONFIG_VARS)) {
    if ((spec as { secret?: boolean }).secret) {
      delete env[name];
      delete env[`${name}_FILE`];
    }
  }
  return env;
}

export function createCommandTrainerActivities(deps: ActivityDeps) {
  return {
    async commandTrain(input: CommandTrainInput): Promise<CommandTrainResult> {
      const step = input.step ?? 'train';
      return tracked(
        deps,
        input.runId,
        step,
        async () => {
          const attempt = currentAttempt();
          const started = Date.now();
          const safeId = input.runId.replace(/[^A-Za-z0-9_.-]/g, '_');
          const work = path.join(deps.cfg.dataDir, 'command-trainer', `${safeId}-${step}-a${attempt}-${process.pid}`);
          const dirs = {
            input: path.join(work, 'input'),
            output: path.join(work, 'output'),
            checkpoint: path.join(work, 'checkpoint'),
          };
          await rm(work, { recursive: true, force: true });
          await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
          const progress: CommandProgress = { pid: null, elapsedMs: 0, metricLines: 0, last: null };
          heartbeat(progress);
          const timer = setInterval(() => {
            progress.elapsedMs = Date.now() - started;
            heartbeat(progress);
          }, 1_000);
          const device = await leaseDevice();
          try {
            // Data shards by reference -> CSV files the process reads.
            const files: string[] = [];
            for (const [i, ref] of input.shards.entries()) {
              const frame = decodeFrame(await readArtifact(deps.store, ref));
              const name = input.shards.length === 1 ? 'train.csv' : `train-${i}.csv`;
              await writeFile(path.join(dirs.input, name), frameToCsv(frame));
              files.push(name);
            }
            const params = {
              runId: input.runId,
              attempt,
              task: input.task ?? null,
              target: input.target ?? null,
              features: input.features ?? [],
              files,
              params: input.trainer.params,
              ...input.extra,
            };
            const paramsPath = path.join(dirs.input, 'params.json');
            await writeFile(paramsPath, JSON.stringify(params, null, 2));

            const saved = await latestCheckpoint(deps.store, input.runId, `${step}:command`);
            let resumed = false;
            if (saved) {
              try {
                await unpackFolder(await readArtifact(deps.store, saved.ref), dirs.checkpoint);
                resumed = true;
              } catch {
                resumed = false; // a lost checkpoint costs time, not the run
              }
            }

            const last: Record<string, number> = {};
            let lines = 0;
            let epochsRun: number | null = null;
            let checkpointEpoch = saved?.epoch ?? 0;
            await runCommand({
              command: input.trainer.command,
              env: {
                ...trainerEnv(process.env),
                MLOPS_INPUT_DIR: dirs.input,
                MLOPS_OUTPUT_DIR: dirs.output,
                MLOPS_CHECKPOINT_DIR: dirs.checkpoint,
                MLOPS_PARAMS: paramsPath,
                MLOPS_RUN_ID: input.runId,
                MLOPS_ATTEMPT: String(attempt),
                ...(device ? { CUDA_VISIBLE_DEVICES: device.visible } : {}),
              },
              signal: cancellationSignal(),
              timeoutMs: input.trainer.timeout,
              onStart: (pid) => {
                progress.pid = pid;
                heartbeat(progress);
              },
              onLog: (line, stream) => {
                if (deps.cfg.MLOPS_LOG_LEVEL === 'debug') console.log(`[trainer ${stream}] ${line}`);
              },
              onJson: async (obj) => {
                if (obj.event === 'checkpoint') {
                  const packed = await packFolder(dirs.checkpoint);
                  if (!packed) return;
                  const epoch =
                    typeof obj.epoch === 'number'
                      ? Math.trunc(obj.epoch)
                      : typeof obj.step === 'number'
                        ? obj.step
                        : checkpointEpoch + 1;
                  checkpointEpoch = Math.max(checkpointEpoch, epoch);
                  const ref = await putArtifact(deps.store, packed, MEDIA.checkpoint, {
                    kind: 'checkpoint',
                    runId: input.runId,
                  });
                  await saveCheckpoint(deps.store, {
                    runId: input.runId,
                    step: `${step}:command`,
                    epoch,
                    ref,
                    attempt,
                  });
                  return;
                }
                const m = metricsOf(obj, lines + 1);
                if (!m) return;
                lines++;
                Object.assign(last, m.values);
                const epoch = epochOf(obj);
                if (epoch !== null) epochsRun = Math.max(epochsRun ?? 0, epoch);
                progress.metricLines = lines;
                progress.last = m.values;
                heartbeat(progress);
                await recordMetric(deps.store, {
                  runId: input.runId,
                  series: step,
                  step: m.step,
                  values: m.values,
                  attempt,
                });
              },
            });

            let onnx: Uint8Array;
            try {
              onnx = await readFile(path.join(dirs.output, 'model.onnx'));
            } catch {
              throw ApplicationFailure.create({
                message: `the trainer process exited 0 but wrote no model.onnx into $MLOPS_OUTPUT_DIR; see docs/trainers.md`,
                type: FAILURE.CommandTrainerBadOutput,
                nonRetryable: true,
              });
            }
            // ONNX only: a pickle, torch.save or joblib file would run code when loaded.
            try {
              assertOnnxModel(onnx, 'model.onnx written by the trainer');
            } catch (err) {
              if (!(err instanceof ModelFormatError)) throw err;
              throw ApplicationFailure.create({
                message: err.message,
                type: FAILURE.CommandTrainerBadOutput,
                nonRetryable: true,
                details: [{ detected: err.detected }],
              });
            }
            const ref = await putArtifact(deps.store, onnx, MEDIA.onnx, { kind: 'onnx', runId: input.runId });
            const training = { epochsRun, resumedFromEpoch: resumed ? (saved?.epoch ?? 0) : 0, bestEpoch: null };
            await updateRun(deps.store, input.runId, { training });
            return {
              model: ref,
              onnx: ref,
              ...training,
              parameterCount: onnxInitializerElements(onnx),
              final: finalMetrics(last),
              metrics: last,
              metricLines: lines,
              attempt,
              resumedFromCheckpoint: resumed,
              seconds: (Date.now() - started) / 1000,
              device: device?.visible ?? null,
            };
          } catch (err) {
            if (err instanceof CommandTrainerError) {
              throw ApplicationFailure.create({
                message: err.message,
                type: err.name,
                nonRetryable: err.badInput,
                details: [{ code: err.outcome.code, signal: err.outcome.signal, killed: err.outcome.killed }],
              });
            }
            throw err;
          } finally {
            clearInterval(timer);
            device?.release();
            await rm(work, { recursive: true, force: true }).catch(() => undefined);
          }
        },
        (r) => ({ metricLines: r.metricLines, resumed: r.resumedFromCheckpoint, seconds: r.seconds }),
        { autoHeartbeat: false }
      );
    },
  };
}
