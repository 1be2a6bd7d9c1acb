// Hyperparameter search against real servers: trials as child workflows, training on the GPU queue
// through the command trainer (the dependency-free fixture, so the worker runs in-process).
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../../lib/config';
import { parseRunSpec } from '../../../lib/spec';
import type { Store } from '../../../lib/store/db';
import { getRunMetrics } from '../../../lib/store/metrics';
import type { SearchInput, SearchResult } from '../../../workflows/hyperparameter-search';
import { workerEnv, type WorkerEnv } from '../harness/env';
import { FIXTURE_TRAINER, tinyShard } from './helpers';

let cfg: Config;
let store: Store;
let client: Client;
let env: WorkerEnv;

beforeAll(async () => {
  env = await workerEnv(['control', 'gpu']);
  ({ cfg, store, client } = env);
});

afterAll(async () => {
  await env?.close();
});

async function search(space: Record<string, unknown[]>) {
  const runId = `search-${randomUUID()}`;
  const spec = parseRunSpec({
    model: 'search-test',
    dataset: { name: 'penguins' },
    target: 'label',
    trainer: { type: 'command', command: [process.execPath, FIXTURE_TRAINER], params: { epochs: 2 } },
    search: { method: 'grid', space, trials: 20, parallelism: 2 },
  });
  const train = await tinyShard(store);
  const input: SearchInput = {
    runId,
    spec,
    task: 'classification',
    features: [
      { name: 'x1', type: 'numeric' },
      { name: 'x2', type: 'numeric' },
    ],
    train,
    datasetSha256: train.sha256,
    queues: { control: cfg.queues.control, gpu: cfg.queues.gpu },
    options: { retryInitialInterval: '100 milliseconds', maximumAttempts: 2 },
  };
  const handle = await client.workflow.start('hyperparameterSearch', {
    taskQueue: cfg.queues.control,
    workflowId: runId,
    args: [input],
  });
  return { runId, handle };
}

test('failed trials are tolerated; the best trial by validation metric wins; every trial is recorded', async () => {
  const { runId, handle } = await search({
    'params.learningRate': [0.1, 0.5, 1],
    'params.mode': ['ok', 'bad-input'],
  });
  const result = (await handle.result()) as SearchResult;
  expect(result.trials).toHaveLength(6);
  expect(result.failed).toBe(3);
  expect(result.best.values).toEqual({ 'params.learningRate': 1, 'params.mode': 'ok' });
  expect(result.best.onnx?.sha256).toMatch(/^[0-9a-f]{64}$/);
  // Command-trainer trials hand on their trainer's own TrainResult, which the pipeline registers as is.
  expect(result.best.train).toMatchObject({ onnx: result.best.onnx, epochsRun: 2, parameterCount: 6, bestEpoch: null });
  expect(result.best.metric).toBe(result.best.train?.final?.valMetric);
  for (const t of result.trials.filter((t) => t.status === 'failed')) expect(t.error).toMatch(/bad input/);
  const points = await getRunMetrics(store, runId, 'search');
  expect(points.map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(points.filter((p) => p.values.succeeded === 0)).toHaveLength(3);
});

test('a search whose trials all fail fails, naming the first error', async () => {
  const { handle } = await search({ 'params.mode': ['bad-input', 'crash'] });
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause?.message).toMatch(/all 2 search trials failed/);
});
