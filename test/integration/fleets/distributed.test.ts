// Data-parallel training across real GPU-queue worker processes: two workers train one job
// together; one is SIGKILLed mid-round and its shard is retried on the other; the job completes.
// (Accuracy against single-worker training is checked in test/unit/fleets/data-parallel.test.ts,
// where onnxruntime can run: jest's realm breaks its typed-array checks.)
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../../lib/config';
import { encodeFrame } from '../../../lib/ml/dataset';
import { parseRunSpec } from '../../../lib/spec';
import { MEDIA, putArtifact } from '../../../lib/store/artifacts';
import type { Store } from '../../../lib/store/db';
import { getRunMetrics } from '../../../lib/store/metrics';
import type { Child } from '../../../tools/stack/child';
import type { DistributedTrainingInput, DistributedTrainingResult } from '../../../workflows/distributed-training';
import { spawnTestFleet, workerEnv, type WorkerEnv } from '../harness/env';
import { penguins, penguinsFeatures } from '../../unit/ml/data';
import { alive } from './helpers';
import { waitFor } from '../harness/wait';

let cfg: Config;
let store: Store;
let client: Client;
let env: WorkerEnv;
const fleet: Child[] = [];
const shardLines: { round: number; index: number; pid: number }[] = [];

/** A GPU worker whose shards wait `delayMs` first (so a test can kill it mid-round). */
async function spawnGpuWorker(delayMs: number): Promise<Child> {
  const child = await spawnTestFleet(cfg, {
    kinds: ['gpu'],
    env: { TEST_SHARD_DELAY_MS: String(delayMs) },
    onLine: (line) => {
      const m = /SHARD (\d+) (\d+) (\d+)/.exec(line);
      if (m) shardLines.push({ round: Number(m[1]), index: Number(m[2]), pid: Number(m[3]) });
    },
  });
  fleet.push(child);
  return child;
}

beforeAll(async () => {
  env = await workerEnv(['control']);
  ({ cfg, store, client } = env);
  await Promise.all([spawnGpuWorker(600), spawnGpuWorker(600)]);
});

afterAll(async () => {
  await Promise.all(fleet.map((c) => c.stop(5_000)));
  await env?.close();
});

async function startJob(workers: number, epochs: number) {
  const runId = `dp-${randomUUID()}`;
  const train = await putArtifact(store, encodeFrame(penguins()), MEDIA.frame, { kind: 'test' });
  const spec = parseRunSpec({
    model: 'penguins-dp',
    dataset: { name: 'penguins' },
    target: 'species',
    trainer: {
      workers,
      epochs,
      hidden: [16],
      batchSize: 16,
      learningRate: 0.01,
      patience: 0,
      validationFraction: 0.15,
    },
  });
  const input: DistributedTrainingInput = {
    runId,
    spec,
    task: 'classification',
    features: penguinsFeatures.filter((f) => f.name !== 'year'),
    train,
    datasetSha256: train.sha256,
    queues: { gpu: cfg.queues.gpu },
    options: { heartbeatTimeout: '3 seconds', retryInitialInterval: '200 milliseconds', historyLimit: 60 },
  };
  const handle = await client.workflow.start('distributedTraining', {
    taskQueue: cfg.queues.control,
    workflowId: runId,
    args: [input],
  });
  return { runId, handle };
}

test('two GPU-queue workers train one job together (and it continues as new past its history limit)', async () => {
  const { runId, handle } = await startJob(2, 8);
  const result = (await handle.result()) as DistributedTrainingResult;
  expect(result.rounds).toBe(8);
  expect(result.workers).toBe(2);
  expect(result.generations).toBeGreaterThanOrEqual(1); // historyLimit 60 forces continue-as-new
  const points = await getRunMetrics(store, runId, 'train');
  expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  // Both worker processes did shard work for this job.
  expect(Math.max(...points.map((p) => p.values.distinctWorkers))).toBe(2);
  expect(points[7].values.valMetric).toBeGreaterThanOrEqual(0.9);
  expect(result.onnx.mediaType).toBe(MEDIA.onnx);
});

test('a worker SIGKILLed mid-round: its shard is retried on the other worker and the job completes', async () => {
  shardLines.length = 0;
  const { runId, handle } = await startJob(2, 6);
  const victim = await waitFor('a shard of round 2 to start', () => shardLines.find((l) => l.round === 2));
  const child = fleet.find((c) => c.proc.pid === victim.pid)!;
  expect(child).toBeDefined();
  process.kill(victim.pid, 'SIGKILL');
  await child.exited;
  expect(alive(victim.pid)).toBe(false);
  const result = (await handle.result()) as DistributedTrainingResult;
  expect(result.rounds).toBe(6);
  const points = await getRunMetrics(store, runId, 'train');
  expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
  // Round 2's killed shard ran again, on the survivor.
  const round2 = shardLines.filter((l) => l.round === 2 && l.index === victim.index);
  expect(round2.length).toBeGreaterThanOrEqual(2);
  expect(round2[round2.length - 1].pid).not.toBe(victim.pid);
  expect(points[5].values.distinctWorkers).toBe(1);
});
