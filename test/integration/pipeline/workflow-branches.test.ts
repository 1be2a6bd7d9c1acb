// Workflow unit tests with mocked activities, in the style of temporalio/samples-typescript: the
// real `pipeline` workflow bundle on the harness's Temporal dev server (TestWorkflowEnvironment
// over the existing server, which has the search attributes the workflow upserts), with a Worker on
// a task queue of its own whose activities are plain async functions returning fixtures. Each test
// drives one branch (gate fail, reject, approval expiry, cancel, child training) and checks its
// outcome and which activities ran. No MongoDB and no trainer: the branches, not the activities.
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { CommandTrainResult } from '../../../activities/command-trainer';
import type { EvaluateResult, TrainResult } from '../../../activities/types';
import { parseRunSpec, type RunSpec, type RunSpecInput } from '../../../lib/spec';
import { approvalUpdate, statusQuery, type VouchedDecision } from '../../../workflows/messages';
import type { PipelineInput, PipelineResult } from '../../../workflows/pipeline';
import { workflowBundle } from '../harness/env';
import { HARNESS } from '../harness/state';
import { waitFor } from '../harness/wait';
import { penguinsSpec } from './helpers';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: process.env[HARNESS.temporal] });
});

afterAll(async () => {
  await env?.teardown();
});

const ref = (kind: string) => ({
  uri: `artifact://${kind}`,
  sha256: kind.padEnd(64, '0'),
  bytes: 1,
  mediaType: 'application/octet-stream',
});
const TRAINED: TrainResult = {
  model: ref('a1'),
  onnx: ref('b2'),
  epochsRun: 5,
  resumedFromEpoch: 0,
  bestEpoch: 4,
  parameterCount: 99,
  final: { trainLoss: 0.2, valLoss: 0.3, valMetric: 0.9 },
  attempt: 1,
};
const evaluation = (accuracy: number): EvaluateResult => ({
  challenger: { task: 'classification', accuracy, rows: 10 },
  champion: null,
});

type Mock = (input: never) => Promise<unknown>;

/** Mocked activities for `spec`: fixtures by default, `overrides` per test; every call is recorded. */
function mockActivities(spec: RunSpec, overrides: Record<string, Mock> = {}) {
  const calls: { name: string; input: unknown }[] = [];
  const fixtures: Record<string, Mock> = {
    startRun: async () => spec,
    setRunState: async () => undefined,
    recordWorkflowStep: async () => undefined,
    finishRun: async () => undefined,
    ingest: async () => ({ frame: ref('c3'), profile: ref('d4'), sha256: 'e5', bytes: 1, rows: 10, format: 'csv' }),
    validate: async () => ({
      ok: true,
      task: 'classification',
      features: [],
      rows: 10,
      missingTargetRows: 0,
      warnings: [],
    }),
    buildFeatures: async () => ({ train: ref('f6'), test: ref('a7'), trainRows: 8, testRows: 2, features: [] }),
    train: async () => TRAINED,
    evaluate: async () => evaluation(0.95),
    registerCandidate: async () => ({ name: spec.model, version: 3, created: true }),
    verifyApproval: async () => ({ ok: true }),
    recordDecision: async () => undefined,
    optimise: async () => {
      throw new Error('optimise is off in these specs');
    },
    promote: async () => ({ version: 3, previousVersion: null, serving: { uri: 'models:/m/3' } }),
    ...overrides,
  };
  const activities = Object.fromEntries(
    Object.entries(fixtures).map(([name, fn]) => [
      name,
      async (input: never) => {
        calls.push({ name, input });
        return fn(input);
      },
    ])
  );
  return {
    activities,
    ran: () => calls.map((c) => c.name),
    inputOf: (name: string) => calls.find((c) => c.name === name)?.input,
  };
}

type Run = WorkflowHandle<(input: PipelineInput) => Promise<PipelineResult>>;

/** Runs the pipeline for `spec` on a fresh queue whose worker has `activities`; `drive` acts on the run. */
async function runPipeline<T>(
  spec: RunSpec,
  activities: Record<string, unknown>,
  drive: (handle: Run) => Promise<T>
): Promise<T> {
  const taskQueue = `branches-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: workflowBundle(),
    activities,
  });
  return worker.runUntil(async () => {
    const runId = `run-${randomUUID()}`;
    const handle: Run = await env.client.workflow.start('pipeline', {
      taskQueue,
      workflowId: runId,
      args: [
        {
          runId,
          spec,
          queues: { control: taskQueue, gpu: taskQueue, cpu: taskQueue },
          createdBy: 'requester',
          options: { retryInitialInterval: '100 milliseconds' },
        },
      ],
    });
    return drive(handle);
  });
}

/** No approval and no optimisation unless a test asks for them. */
const specOf = (overrides: Partial<RunSpecInput> = {}) =>
  parseRunSpec(penguinsSpec({ approval: { required: false }, optimise: { int8: false }, ...overrides }));
const awaitingApproval = (handle: Run) =>
  waitFor('the run to await approval', async () => (await handle.query(statusQuery)).status === 'awaiting_approval');
const decision = (d: 'approve' | 'reject', comment?: string): VouchedDecision => ({
  decision: d,
  approver: 'reviewer',
  comment,
  at: Date.now(),
  signature: { alg: 'HMAC-SHA256', keyId: 'mock', value: 'checked by the mocked verifyApproval' },
});

test('a failed gate ends the run failed_gate, with nothing registered or promoted', async () => {
  const spec = specOf({ gates: { minAccuracy: 0.9 } });
  const mock = mockActivities(spec, { evaluate: async () => evaluation(0.5) });
  const result = await runPipeline(spec, mock.activities, (h) => h.result());
  expect(result.status).toBe('failed_gate');
  expect(result.reason).toMatch(/accuracy 0\.5/);
  expect(result.version).toBeNull();
  expect(mock.ran()).toContain('evaluate');
  expect(mock.ran()).not.toContain('registerCandidate');
  expect(mock.ran()).not.toContain('promote');
  expect(mock.inputOf('finishRun')).toMatchObject({ status: 'failed_gate', error: null });
});

test('a rejection ends the run rejected, recorded as the decision, and nothing is promoted', async () => {
  const spec = specOf({ approval: { required: true, timeout: '10m' } });
  const mock = mockActivities(spec);
  const result = await runPipeline(spec, mock.activities, async (h) => {
    await awaitingApproval(h);
    await h.executeUpdate(approvalUpdate, { args: [decision('reject', 'not yet')] });
    return h.result();
  });
  expect(result).toMatchObject({ status: 'rejected', version: 3, reason: 'rejected by reviewer: not yet' });
  expect(mock.inputOf('recordDecision')).toMatchObject({ decision: 'reject', approver: 'reviewer', version: 3 });
  expect(mock.ran()).toContain('verifyApproval');
  expect(mock.ran()).not.toContain('promote');
});

test('the requester cannot decide on their own run (four eyes), and an approval promotes', async () => {
  const spec = specOf({ approval: { required: true, timeout: '10m' } });
  const mock = mockActivities(spec);
  const result = await runPipeline(spec, mock.activities, async (h) => {
    await awaitingApproval(h);
    const own = { ...decision('approve'), approver: 'requester' };
    const refused = await h.executeUpdate(approvalUpdate, { args: [own] }).then(
      () => null,
      (e: unknown) => e as WorkflowUpdateFailedError
    );
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(refused?.cause?.message).toMatch(/four eyes: requester requested this run/);
    await h.executeUpdate(approvalUpdate, { args: [decision('approve')] });
    return h.result();
  });
  expect(result).toMatchObject({ status: 'succeeded', promotion: { version: 3, serving: 'models:/m/3' } });
  expect(mock.inputOf('promote')).toMatchObject({ version: 3, approver: 'reviewer' });
});

test('no decision before the approval timeout ends the run expired', async () => {
  const spec = specOf({ approval: { required: true, timeout: '1s' } });
  const mock = mockActivities(spec);
  const result = await runPipeline(spec, mock.activities, (h) => h.result());
  expect(result.status).toBe('expired');
  expect(result.reason).toMatch(/no approval decision within 1000 ms/);
  expect(mock.inputOf('recordDecision')).toMatchObject({ decision: 'expired', approver: null });
  expect(mock.ran()).not.toContain('promote');
});

test('cancelling a run mid-training records it cancelled and runs no later stage', async () => {
  const spec = specOf();
  const mock = mockActivities(spec, {
    // Training that heartbeats until the cancellation reaches it.
    train: async () => {
      const ctx = Context.current();
      for (;;) {
        ctx.heartbeat();
        await ctx.sleep(200);
      }
    },
  });
  const err = await runPipeline(spec, mock.activities, async (h) => {
    await waitFor('training to start', async () => (await h.query(statusQuery)).stage === 'train');
    await h.cancel();
    return h.result().then(
      () => null,
      (e: unknown) => e
    );
  });
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  expect(mock.inputOf('finishRun')).toMatchObject({ status: 'cancelled', error: null });
  expect(mock.ran()).not.toContain('evaluate');
});

test('a command trainer trains in a child workflow whose TrainResult is registered as it came', async () => {
  const spec = specOf({ trainer: { type: 'command', command: ['train'], params: { lr: 0.1 } } });
  const child: CommandTrainResult = {
    ...TRAINED,
    model: TRAINED.onnx,
    epochsRun: null,
    bestEpoch: null,
    final: { trainLoss: null, valLoss: 0.4, valMetric: null },
    metrics: { valLoss: 0.4 },
    metricLines: 3,
    resumedFromCheckpoint: false,
    seconds: 1,
    device: null,
  };
  const mock = mockActivities(spec, { commandTrain: async () => child });
  const result = await runPipeline(spec, mock.activities, (h) => h.result());
  expect(result).toMatchObject({ status: 'succeeded', training: { epochsRun: null, resumedFromEpoch: 0 } });
  expect(mock.ran()).toContain('commandTrain');
  expect(mock.ran()).not.toContain('train');
  expect(mock.inputOf('commandTrain')).toMatchObject({ trainer: { command: ['train'], params: { lr: 0.1 } } });
  // Nothing padded on the way: the registered TrainResult is the child's, nulls included.
  expect((mock.inputOf('registerCandidate') as { train: unknown }).train).toEqual(child);
});
