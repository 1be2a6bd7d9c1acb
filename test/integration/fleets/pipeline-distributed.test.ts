// The pipeline with `trainer.workers: 2` or a `search` block: its train stage runs the distributedTraining child
// workflow on the GPU fleet, and the exported model goes through evaluation (onnxruntime on the CPU
// fleet), the quality gate and registration like a single-worker model.
import type { PipelineResult } from '../../../workflows/pipeline';
import { getRunMetrics } from '../../../lib/store/metrics';
import { penguinsSpec, pipelineEnv, startPipeline, type PipelineEnv } from '../pipeline/helpers';

let env: PipelineEnv;

beforeAll(async () => {
  env = await pipelineEnv();
});

afterAll(async () => {
  await env?.close();
});

test('a run with trainer.workers 2 trains data-parallel and passes evaluation and the gate', async () => {
  const handle = await startPipeline(
    env,
    penguinsSpec({
      trainer: { workers: 2, epochs: 30, batchSize: 16, learningRate: 0.02, hidden: [16], patience: 0 },
      approval: { required: false },
      gates: { minAccuracy: 0.9, maxRegression: null },
      optimise: { int8: false },
    })
  );
  const result = (await handle.result()) as PipelineResult;
  expect(result.status).toBe('succeeded');
  expect(result.training?.epochsRun).toBe(30);
  expect(result.metrics?.accuracy as number).toBeGreaterThanOrEqual(0.9);
  const rounds = await getRunMetrics(env.store, handle.workflowId, 'train');
  expect(rounds).toHaveLength(30);
  expect(rounds[0].values.workers).toBe(2);
});

test('a run with a search block trains every trial and carries the best one through the pipeline', async () => {
  const handle = await startPipeline(
    env,
    penguinsSpec({
      trainer: { epochs: 15, batchSize: 16, hidden: [8], patience: 0 },
      search: { method: 'grid', space: { learningRate: [0.0001, 0.03] }, parallelism: 2 },
      approval: { required: false },
      gates: { maxRegression: null },
      optimise: { int8: false },
    })
  );
  const result = (await handle.result()) as PipelineResult;
  expect(result.status).toBe('succeeded');
  const trials = await getRunMetrics(env.store, handle.workflowId, 'search');
  expect(trials).toHaveLength(2);
  // The faster learning rate wins on validation accuracy after 15 epochs.
  const best = trials.reduce((a, b) => ((b.values.metric ?? -1) > (a.values.metric ?? -1) ? b : a));
  expect(best.values.learningRate).toBe(0.03);
});
