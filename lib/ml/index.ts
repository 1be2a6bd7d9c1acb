/**
 * Built-in ML toolkit: tabular training, ONNX export, evaluation and CPU optimisation, with no
 * Python and no downloads. Usage: build a column-major `Frame` (numeric columns as Float64Array
 * with NaN for missing, categorical as (string|null)[]), then `train(frame, spec, { onEpoch,
 * onCheckpoint, checkpoint, signal })` fits preprocessing on the training split and runs mini-batch
 * Adam as an ONNX training graph in onnxruntime-node; heartbeat from `onEpoch`, store the bytes
 * from `onCheckpoint` and pass them back as `checkpoint` on a retry to resume exactly (same
 * weights as an uninterrupted run). Persist the result with `serializeModel` or, for serving,
 * `exportOnnx(model, lineage)`: the ONNX graph takes the raw feature columns (preprocessing is
 * inside; `{ packNumeric: true }` packs numeric columns into one input for wide data) and outputs
 * `label` + `probabilities` or `value`; `predictOnnx` runs it on a Frame and
 * `classificationMetrics` / `regressionMetrics` score the result. `quantizeInt8` and
 * `pruneMagnitude` rewrite an exported model for CPU, and `compareModels` reports size, latency and
 * accuracy against the float model. Data-parallel training (lib/trainers/data-parallel.ts) runs the
 * same training core (lib/ml/train/) per shard and averages weights and Adam state per round.
 * Everything a user must fix (one class, non-finite features, model over the
 * memory limit, a diverging loss, bad spec fields) throws `MlInputError`, which the pipeline maps
 * to a non-retryable failure; any other error may retry. Jest tests that run onnxruntime need the
 * docblock `@jest-environment ./test/unit/ml/ort-environment.js` (typed arrays across realms).
 */
export * from './types';
export { CheckpointMismatchError, MlInputError } from './errors';
export { classificationMetrics, regressionMetrics } from './metrics';
export { fitPreprocessing, transform } from './preprocessing';
export { train } from './trainer';
export { predict, serializeModel, deserializeModel } from './model';
export { exportOnnx } from './export';
export { predictOnnx, readOnnxMetadata } from './predict-onnx';
export { quantizeInt8 } from './quantize';
export { pruneMagnitude } from './prune';
export { compareModels } from './report';
