// The `command` trainer against real servers: the commandTraining child workflow on the control
// fleet, its activity on an in-process GPU-queue worker, a real process following the contract.
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandTrainResult } from '../../../activities/command-trainer';
import type { Config } from '../../../lib/config';
import type { Store } from '../../../lib/store/db';
import { getRunMetrics } from '../../../lib/store/metrics';
import { EXIT_BAD_INPUT } from '../../../lib/trainers/command';
import type { CommandTrainingInput } from '../../../workflows/command-training';
import { workerEnv, type WorkerEnv } from '../harness/env';
import { alive, FIXTURE_TRAINER, startFixtureTraining } from './helpers';
import { waitFor } from '../harness/wait';

let cfg: Config;
let store: Store;
let client: Client;
let env: WorkerEnv;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cmd-trainer-'));

beforeAll(async () => {
  env = await workerEnv(['control', 'gpu']);
  ({ cfg, store, client } = env);
});

afterAll(async () => {
  await env?.close();
});

async function start(params: Record<string, unknown>, withData = true, timeout = 120_000) {
  const runId = `cmd-${randomUUID()}`;
  const handle = await startFixtureTraining(client, cfg, {
    runId,
    params,
    timeout,
    store: withData ? store : undefined,
  });
  return { runId, handle };
}

test('metrics printed by the process are recorded as the run metrics, and model.onnx is stored', async () => {
  const { runId, handle } = await start({ epochs: 4, learningRate: 0.5 });
  const result = (await handle.result()) as CommandTrainResult;
  expect(result.metricLines).toBe(4);
  expect(result.onnx.sha256).toMatch(/^[0-9a-f]{64}$/);
  // A complete TrainResult from what the process printed and wrote; what it never said is null.
  expect(result).toMatchObject({
    model: result.onnx,
    epochsRun: 4,
    resumedFromEpoch: 0,
    bestEpoch: null,
    parameterCount: 6, // the fixture's model.onnx holds one 2x3 initializer
    final: { trainLoss: null, valLoss: null, valMetric: result.metrics.valMetric },
    attempt: 1,
  });
  const points = await getRunMetrics(store, runId, 'train');
  expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4]);
  expect(points[3].values.loss).toBeCloseTo(1 / (1 + 4 * 0.5), 6);
  expect(points[0].values.samples).toBe(20); // the shard reached the process as CSV
  expect(result.metrics.valMetric).toBeCloseTo(1 - 1 / (1 + 2) / 2, 6);
});

test(`exit ${EXIT_BAD_INPUT} (bad input) fails at once, not retried, with the stderr tail`, async () => {
  const attemptsFile = path.join(tmp, `attempts-${randomUUID()}`);
  const { handle } = await start({ mode: 'bad-input', attemptsFile });
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause?.cause as { message: string; type?: string; nonRetryable?: boolean };
  expect(cause.type).toBe('CommandTrainerBadInput');
  expect(cause.message).toMatch(/column "label" is not what this trainer expects/);
  expect(cause.message).toMatch(/last 50 stderr lines/);
  expect(cause.message).not.toMatch(/diagnostic line 10\b/); // only the last 50 lines
  expect(readFileSync(attemptsFile, 'utf8').trim().split('\n')).toEqual(['1']);
});

test('a crash is retried; the next attempt resumes from the checkpoint folder', async () => {
  const attemptsFile = path.join(tmp, `attempts-${randomUUID()}`);
  const { runId, handle } = await start({ epochs: 3, failAttempts: 1, crashAfterEpoch: 2, attemptsFile });
  const result = (await handle.result()) as CommandTrainResult;
  expect(result.attempt).toBe(2);
  expect(result.resumedFromCheckpoint).toBe(true);
  expect(result.resumedFromEpoch).toBe(2);
  expect(result.epochsRun).toBe(3);
  expect(readFileSync(attemptsFile, 'utf8').trim().split('\n')).toEqual(['1', '2']);
  const points = await getRunMetrics(store, runId, 'train');
  expect(points.map((p) => [p.step, p.attempt])).toEqual([
    [1, 1],
    [2, 1],
    [3, 2],
  ]);
});

test('cancellation kills the process group: the process and its grandchild leave no orphan', async () => {
  const pidFile = path.join(tmp, `pids-${randomUUID()}`);
  const { handle } = await start({ mode: 'hang', pidFile });
  const pids: number[] = await waitFor('the trainer to start', () =>
    existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) : null
  );
  expect(pids.every(alive)).toBe(true);
  await handle.cancel();
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  // Both ignore SIGTERM, so this also proves the SIGKILL escalation.
  await waitFor('the process group to be gone', () => pids.every((p) => !alive(p)), 30_000);
});

test('a time limit kills the process group and fails the attempt', async () => {
  const pidFile = path.join(tmp, `pids-${randomUUID()}`);
  const runId = `cmd-${randomUUID()}`;
  const input: CommandTrainingInput = {
    train: {
      runId,
      trainer: { command: [process.execPath, FIXTURE_TRAINER], params: { mode: 'hang', pidFile }, timeout: 1_500 },
      shards: [],
    },
    queues: { gpu: cfg.queues.gpu },
    options: { retryInitialInterval: '100 milliseconds', maximumAttempts: 1 },
  };
  const handle = await client.workflow.start('commandTraining', {
    taskQueue: cfg.queues.control,
    workflowId: runId,
    args: [input],
  });
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e
  );
  const cause = (err as WorkflowFailedError).cause?.cause as { message: string };
  expect(cause.message).toMatch(/exceeded its time limit/);
  const pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
  await waitFor('the process group to be gone', () => pids.every((p) => !alive(p)), 30_000);
});
