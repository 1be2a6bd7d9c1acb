// A GPU worker process SIGTERMed mid-activity: within its grace time it drains (the activity
// finishes on it and the process exits 0); past the grace time it hands the task back (the
// trainer's process group is killed, the attempt fails retryably) and another worker finishes it.
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../../../lib/config';
import type { Store } from '../../../lib/store/db';
import { getRunMetrics } from '../../../lib/store/metrics';
import type { Child } from '../../../tools/stack/child';
import type { CommandTrainResult } from '../../../activities/command-trainer';
import type { CommandTrainingInput } from '../../../workflows/command-training';
import { spawnTestFleet, workerEnv, type WorkerEnv } from '../harness/env';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { alive, FIXTURE_TRAINER, startFixtureTraining } from './helpers';
import { waitFor } from '../harness/wait';

let cfg: Config;
let store: Store;
let client: Client;
let env: WorkerEnv;
const children: Child[] = [];

async function gpuWorker(graceMs: number): Promise<Child> {
  const child = await spawnTestFleet(cfg, { kinds: ['gpu'], env: { MLOPS_WORKER_SHUTDOWN_GRACE_MS: String(graceMs) } });
  children.push(child);
  return child;
}

beforeAll(async () => {
  env = await workerEnv(['control']);
  ({ cfg, store, client } = env);
});

// Each test starts its own workers: stop them so the next test's task cannot go to a leftover.
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop(5_000)));
});

afterAll(async () => {
  await env?.close();
});

async function start(epochs: number, sleepMs: number) {
  const runId = `term-${randomUUID()}`;
  return { runId, handle: await startFixtureTraining(client, cfg, { runId, params: { epochs, sleepMs } }) };
}

test('SIGTERM within the grace time: the in-flight activity finishes on that worker, which exits 0', async () => {
  const worker = await gpuWorker(30_000);
  const { runId, handle } = await start(6, 400);
  await waitFor('the first epoch', async () => (await getRunMetrics(store, runId, 'train')).length > 0);
  worker.proc.kill('SIGTERM');
  const result = (await handle.result()) as CommandTrainResult;
  expect(result.attempt).toBe(1); // drained, not retried
  expect(result.metricLines).toBe(6);
  expect(await worker.exited).toEqual({ code: 0, signal: null });
});

test('SIGTERM past the grace time: the task is handed back and finished by another worker', async () => {
  const worker = await gpuWorker(1_000);
  const { runId, handle } = await start(8, 700);
  await waitFor('the first epoch', async () => (await getRunMetrics(store, runId, 'train')).length > 0);
  worker.proc.kill('SIGTERM');
  expect((await worker.exited).code).toBe(0);
  await gpuWorker(30_000); // the replacement
  const result = (await handle.result()) as CommandTrainResult;
  expect(result.attempt).toBe(2);
  expect(result.resumedFromCheckpoint).toBe(true); // the handed-back attempt's checkpoint is reused
  const points = await getRunMetrics(store, runId, 'train');
  expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
});

test('a worker SIGKILLed mid-activity leaves no orphan: its trainer process group dies with it; another worker retries', async () => {
  const worker = await gpuWorker(30_000);
  const pidFile = path.join(os.tmpdir(), `pids-${randomUUID()}`);
  const runId = `kill-${randomUUID()}`;
  const input: CommandTrainingInput = {
    train: {
      runId,
      trainer: {
        command: [process.execPath, FIXTURE_TRAINER],
        params: { mode: 'hang', hangAttempts: 1, pidFile, epochs: 2 },
        timeout: 120_000,
      },
      shards: [],
    },
    queues: { gpu: cfg.queues.gpu },
    options: { retryInitialInterval: '100 milliseconds', heartbeatTimeout: '3 seconds' },
  };
  const handle = await client.workflow.start('commandTraining', {
    taskQueue: cfg.queues.control,
    workflowId: runId,
    args: [input],
  });
  const pids = (await waitFor('the trainer to start', () =>
    existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) : null
  )) as number[];
  worker.proc.kill('SIGKILL');
  await worker.exited;
  // The trainer and its grandchild (which ignores SIGTERM and never reads stdin) are gone.
  await waitFor('the trainer process group to die with its worker', () => pids.every((p) => !alive(p)), 20_000);
  await gpuWorker(30_000);
  const result = (await handle.result()) as CommandTrainResult;
  expect(result.attempt).toBe(2);
});
