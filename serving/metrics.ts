// The inference server's Prometheus metrics (GET /metrics). Names follow the Prometheus naming
// rules (base units, _total for counters), so promtool accepts them; labels are bounded: model
// and version come from the registry, outcome and class from fixed or model-defined sets.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PREDICTION_VALUE_BOUNDS } from '../lib/store/deployments';

export type Outcome = 'ok' | 'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'unavailable' | 'error';

export function outcomeOf(status: number): Outcome {
  if (status < 400) return 'ok';
  if (status === 401 || status === 429) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 503) return 'unavailable';
  return status < 500 ? 'invalid' : 'error';
}

export function createServingMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mlops_inference_process_' });
  const p = 'mlops_inference_';
  return {
    registry,
    requests: new Counter({
      name: `${p}requests_total`,
      help: 'Inference requests by model, version (empty when none answered) and outcome',
      labelNames: ['model', 'version', 'outcome'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'Inference request latency, body read to response written',
      labelNames: ['model'] as const,
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    batchRows: new Histogram({
      name: `${p}batch_rows`,
      help: 'Rows per ONNX Runtime call (several requests when dynamic batching coalesced them)',
      labelNames: ['model'] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384],
      registers: [registry],
    }),
    batchRequests: new Histogram({
      name: `${p}batch_requests`,
      help: 'Requests per ONNX Runtime call',
      labelNames: ['model'] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    loadSeconds: new Histogram({
      name: `${p}model_load_seconds`,
      help: 'Time to read, verify and open a model version',
      labelNames: ['model'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    loadFailures: new Counter({
      name: `${p}model_load_failures_total`,
      help: 'Model versions refused or not loadable (reason: signature, not_found, store, format)',
      labelNames: ['model', 'reason'] as const,
      registers: [registry],
    }),
    serving: new Gauge({
      name: `${p}model_serving_version`,
      help: 'Version that answers for the production alias of each model',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    predictedClasses: new Counter({
      name: `${p}predicted_class_total`,
      help: 'Predicted labels of classifiers, by model, version and class',
      labelNames: ['model', 'version', 'class'] as const,
      registers: [registry],
    }),
    predictedValues: new Histogram({
      name: `${p}predicted_value`,
      help: 'Predicted values of regressors',
      labelNames: ['model', 'version'] as const,
      buckets: [...PREDICTION_VALUE_BOUNDS],
      registers: [registry],
    }),
    versionLatency: new Histogram({
      name: `${p}version_duration_seconds`,
      help: 'Request start to prediction, per version answering by model name (traffic: live, or shadow for mirrored copies)',
      labelNames: ['model', 'version', 'traffic'] as const,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    shadow: new Counter({
      name: `${p}shadow_requests_total`,
      help: 'Mirrored requests to a shadow candidate by result: agreed, disagreed, error, dropped (too many in flight)',
      labelNames: ['model', 'version', 'result'] as const,
      registers: [registry],
    }),
    splitWeight: new Gauge({
      name: `${p}split_candidate_weight`,
      help: 'Percent of callers the candidate answers (0 while it is not loaded or in shadow mode)',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    splitRevision: new Gauge({
      name: `${p}split_revision`,
      help: 'Revision of the traffic split this server applies per model',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    statsDropped: new Counter({
      name: `${p}serving_stats_dropped_total`,
      help: 'Requests whose per-version statistics were dropped because the store stayed unreachable',
      registers: [registry],
    }),
    logWritten: new Counter({
      name: `${p}prediction_log_written_total`,
      help: 'Prediction log entries written to MongoDB',
      registers: [registry],
    }),
    sketchFailures: new Counter({
      name: `${p}drift_sketch_failures_total`,
      help: 'Drift sketch problems: store_error (a flush failed; retried by the next), profile_error (profile unreadable; retried in 30 s), profile_loading and dropped (requests not sketched), bad_input',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    logDropped: new Counter({
      name: `${p}prediction_log_dropped_total`,
      help: 'Prediction log entries dropped because the buffer was full or the write failed',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

export type ServingMetrics = ReturnType<typeof createServingMetrics>;
