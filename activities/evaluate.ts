// CPU queue: evaluation and optimisation, both with onnxruntime-node on the exported artifacts
// (what is evaluated is what is deployed).
//  - evaluate: the challenger on the held-out split, and the `production` champion of the same
//    model name when it is compatible (same task, target and feature columns), both on the test
//    rows the champion was not trained on (by row digest: a retrain on growing data re-splits the
//    champion's training rows into this test split, where it would score as if it had never seen
//    them); the run's own training-row digests are stored for the next run's comparison;
//  - optimise: int8 quantisation, and magnitude pruning + int8, each re-evaluated; the smallest
//    candidate within the accuracy tolerance serves production, else the float model does.
import { decodeFrame, rowHashes, rowHashSet, takeRows, unseenRows } from '../lib/ml/dataset';
import { classificationMetrics, predictOnnx, pruneMagnitude, quantizeInt8, regressionMetrics } from '../lib/ml';
import type { Frame, OnnxPrediction } from '../lib/ml/types';
import { predictionProfile } from '../lib/monitoring/profile';
import { saveReferenceProfile } from '../lib/store/monitoring';
import { primaryMetric } from '../lib/workflow-safe/quality-gates';
import { MEDIA, putArtifact, readArtifact } from '../lib/store/artifacts';
import { appendAudit } from '../lib/store/audit';
import { getAliasVersion, ModelSignatureError, verifyModelVersion, type ModelVersionDoc } from '../lib/store/models';
import { updateRun } from '../lib/store/runs';
import { heartbeat, tracked, type ActivityDeps } from './common';
import type {
  EvaluateInput,
  EvaluateResult,
  ModelEvaluation,
  OptimiseCandidate,
  TrainRows,
  OptimiseInput,
  OptimiseResult,
  Task,
} from './types';

function targetStrings(frame: Frame, target: string): string[] {
  const col = frame.columns[target];
  if (col instanceof Float64Array) return Array.from(col, (v) => String(v));
  return col.map((v) => v ?? '');
}

/** Scores an ONNX model on a frame that holds the target column. */
export async function scoreOnnx(onnx: Uint8Array, frame: Frame, target: string, task: Task): Promise<ModelEvaluation> {
  return scorePrediction(await predictOnnx(onnx, frame), frame, target, task);
}

function scorePrediction(pred: OnnxPrediction, frame: Frame, target: string, task: Task): ModelEvaluation {
  if (task === 'classification') {
    const classes = pred.classes ?? [];
    const m = classificationMetrics(targetStrings(frame, target), pred.labels ?? [], pred.probabilities, classes);
    return {
      task,
      rows: frame.length,
      accuracy: m.accuracy,
      macroF1: m.macroF1,
      rocAuc: m.rocAuc,
      logLoss: m.logLoss,
      confusionMatrix: { labels: classes, counts: m.confusionMatrix.flat() },
      classes,
    };
  }
  const y = frame.columns[target];
  if (!(y instanceof Float64Array)) throw new Error(`regression target '${target}' is not numeric in the test split`);
  const m = regressionMetrics(y, pred.values ?? new Float32Array(0));
  return { task, rows: frame.length, rmse: m.rmse, mae: m.mae, r2: m.r2 };
}

/** Stores the digests of the training split's rows (features then target, as buildFeatures wrote them). */
async function keepTrainRows(
  deps: ActivityDeps,
  runId: string,
  train: EvaluateInput['train']
): Promise<TrainRows | undefined> {
  if (!train) return undefined;
  const frame = decodeFrame(await readArtifact(deps.store, train));
  const columns = Object.keys(frame.columns);
  const hashes = await putArtifact(deps.store, rowHashes(frame, columns), MEDIA.rowHashes, {
    kind: 'train-row-hashes',
    runId,
  });
  return { hashes, rows: frame.length, columns };
}

/** The test rows the champion was not trained on, or the whole split when it kept no digests. */
async function heldOutFor(deps: ActivityDeps, prod: ModelVersionDoc, test: Frame) {
  const kept = prod.lineage.trainRows;
  if (!kept || kept.columns.some((c) => !(c in test.columns))) {
    return { basis: 'test-split' as const, frame: test, excludedRows: 0 };
  }
  const seen = rowHashSet(await readArtifact(deps.store, kept.hashes));
  const keep = unseenRows(test, kept.columns, seen);
  return { basis: 'unseen' as const, frame: takeRows(test, keep), excludedRows: test.length - keep.length };
}

function metricOf(e: ModelEvaluation): number {
  const v = e[primaryMetric(e.task)];
  return typeof v === 'number' ? v : NaN;
}

export function createEvaluateActivities(deps: ActivityDeps) {
  return {
    async evaluate(input: EvaluateInput): Promise<EvaluateResult> {
      return tracked(
        deps,
        input.runId,
        'evaluate',
        async () => {
          const test = decodeFrame(await readArtifact(deps.store, input.test));
          const onnx = await readArtifact(deps.store, input.onnx);
          const predicted = await predictOnnx(onnx, test);
          const challenger = scorePrediction(predicted, test, input.spec.target, input.task);
          // Monitoring's reference for the model's outputs: their distribution on the test split.
          await saveReferenceProfile(deps.store, input.runId, {
            prediction: predictionProfile(predicted),
            predictionRows: test.length,
          });
          heartbeat({ challenger: true });
          let champion: EvaluateResult['champion'] = null;
          let championNote: string | undefined;
          const prod = await getAliasVersion(deps.store, input.spec.model, 'production');
          if (prod && prod.runId !== input.runId) {
            try {
              verifyModelVersion(deps.store, prod);
            } catch (err) {
              if (err instanceof ModelSignatureError) {
                await appendAudit(deps.store, {
                  actor: null,
                  action: 'model.verify',
                  object: { type: 'model_version', id: prod._id },
                  outcome: 'failed',
                  details: { runId: input.runId, reason: 'signature mismatch; model not loaded' },
                });
              }
              throw err;
            }
            const missing = prod.lineage.features.filter((f) => !(f.name in test.columns)).map((f) => f.name);
            if (prod.lineage.task !== input.task || prod.lineage.target !== input.spec.target) {
              championNote = `production v${prod.version} predicts ${prod.lineage.task} of '${prod.lineage.target}'; not comparable`;
            } else if (missing.length) {
              championNote = `production v${prod.version} needs column(s) ${missing.join(', ')} that this split lacks; not comparable`;
            } else {
              const held = await heldOutFor(deps, prod, test);
              if (held.frame.length === 0) {
                championNote = `production v${prod.version} was trained on all ${test.length} test row(s); no row is left to compare on`;
              } else {
                try {
                  const ref = prod.artifacts.serving ?? prod.artifacts.onnx;
                  const metrics = await scoreOnnx(
                    await readArtifact(deps.store, ref),
                    held.frame,
                    input.spec.target,
                    input.task
                  );
                  const onHeldOut =
                    held.basis === 'unseen'
                      ? await scoreOnnx(onnx, held.frame, input.spec.target, input.task)
                      : challenger;
                  const heldOut = {
                    basis: held.basis,
                    rows: held.frame.length,
                    excludedRows: held.excludedRows,
                    challenger: onHeldOut,
                  };
                  champion = { version: prod.version, runId: prod.runId, metrics, heldOut };
                } catch (err) {
                  championNote = `production v${prod.version} could not be scored on this split: ${(err as Error).message}`;
                }
              }
            }
          }
          const trainRows = await keepTrainRows(deps, input.runId, input.train);
          const result: EvaluateResult = {
            challenger,
            champion,
            ...(championNote ? { championNote } : {}),
            ...(trainRows ? { trainRows } : {}),
          };
          await updateRun(deps.store, input.runId, {
            metrics: { ...challenger },
            champion: champion
              ? { version: champion.version, metrics: champion.metrics, heldOut: champion.heldOut }
              : null,
          });
          return result;
        },
        (r) => ({
          [primaryMetric(r.challenger.task)]: metricOf(r.challenger),
          champion: r.champion ? { version: r.champion.version, metric: metricOf(r.champion.metrics) } : null,
        })
      );
    },

    async optimise(input: OptimiseInput): Promise<OptimiseResult> {
      return tracked(
        deps,
        input.runId,
        'optimise',
        async () => {
          const opt = input.spec.optimise;
          const test = decodeFrame(await readArtifact(deps.store, input.test));
          const onnx = await readArtifact(deps.store, input.onnx);
          const metricName = primaryMetric(input.task);
          const floatMetric = metricOf(input.floatMetrics);
          const candidates: OptimiseCandidate[] = [];
          const tryCandidate = async (kind: OptimiseCandidate['kind'], bytes: Uint8Array, sparsity?: number) => {
            const e = await scoreOnnx(bytes, test, input.spec.target, input.task);
            heartbeat({ kind });
            const metric = metricOf(e);
            const drop = floatMetric - metric;
            const ref = await putArtifact(deps.store, bytes, MEDIA.onnx, { kind: `onnx-${kind}`, runId: input.runId });
            candidates.push({
              kind,
              ref,
              metric,
              drop,
              withinTolerance: drop <= opt.maxAccuracyDrop + 1e-12,
              sparsity,
            });
          };
          if (opt.int8) {
            await tryCandidate('int8', quantizeInt8(onnx));
            if (opt.prune)
              await tryCandidate('pruned_int8', quantizeInt8(pruneMagnitude(onnx, opt.sparsity)), opt.sparsity);
          } else if (opt.prune) {
            // Pruning alone does not shrink a dense model; it is only offered together with int8.
          }
          const ok = candidates.filter((c) => c.withinTolerance).sort((a, b) => a.ref.bytes - b.ref.bytes);
          const chosen = ok[0];
          const reason = chosen
            ? `${chosen.kind} keeps ${metricName} within ${opt.maxAccuracyDrop} of the float model (drop ${chosen.drop.toFixed(4)}, ${chosen.ref.bytes} vs ${input.onnx.bytes} bytes)`
            : candidates.length
              ? `no optimised model stayed within ${opt.maxAccuracyDrop} ${metricName} of the float model; the float model serves`
              : 'optimisation is off; the float model serves';
          return {
            chosen: chosen ? chosen.kind : 'float',
            serving: chosen ? chosen.ref : input.onnx,
            metricName,
            floatMetric,
            candidates,
            reason,
          };
        },
        (r) => ({
          chosen: r.chosen,
          candidates: r.candidates.map((c) => ({ kind: c.kind, drop: c.drop, bytes: c.ref.bytes })),
        })
      );
    },
  };
}
