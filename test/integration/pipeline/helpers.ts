// Shared setup of the pipeline's integration tests: real Temporal + real MongoDB wire server
// (from the harness), real workers, and small helpers to start runs and wait for states.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../../lib/config';
import { parseRunSpec, type RunSpecInput } from '../../../lib/spec';
import { openStore, type Store } from '../../../lib/store/db';
import { createClient } from '../../../lib/temporal/connection';
import { vouch } from '../../../lib/crypto/approval-voucher';
import {
  approvalUpdate,
  statusQuery,
  type ApprovalAck,
  type ApprovalDecision,
  type PipelineStatus,
  type RunStatus,
} from '../../../workflows/messages';
import type { PipelineInput, PipelineOptions, PipelineResult } from '../../../workflows/pipeline';
import type { Child } from '../../../tools/stack/child';
import { spawnTestFleet, startTestWorkers, testConfig, type TestWorkers } from '../harness/env';
import { StopWaiting, waitFor } from '../harness/wait';

export interface PipelineEnv {
  cfg: Config;
  store: Store;
  client: Client;
  workers: TestWorkers | null;
  fleet: Child | null;
  close(): Promise<void>;
}

/** Control fleet in-process (workflows + history/registry), GPU+CPU fleets in a child process. */
export async function pipelineEnv(
  opts: { control?: boolean; fleet?: boolean; env?: Record<string, string> } = {}
): Promise<PipelineEnv> {
  const cfg = testConfig(opts.env);
  const store = await openStore(cfg);
  const client = await createClient(cfg);
  const [workers, fleet] = await Promise.all([
    opts.control === false ? null : startTestWorkers(cfg, store, ['control']),
    opts.fleet === false ? null : spawnTestFleet(cfg),
  ]);
  return {
    cfg,
    store,
    client,
    workers,
    fleet,
    async close() {
      await fleet?.stop(5_000);
      await workers?.shutdown();
      await client.connection.close();
      await store.close();
    },
  };
}

/** A fast spec on the bundled penguins data (small MLP, few epochs). */
export function penguinsSpec(overrides: Partial<RunSpecInput> = {}): RunSpecInput {
  return {
    model: `penguins-${randomUUID().slice(0, 6)}`,
    dataset: { name: 'penguins' },
    target: 'species',
    trainer: { epochs: 40, batchSize: 32, learningRate: 0.02, hidden: [16], patience: 0 },
    approval: { timeout: '10m' },
    ...overrides,
  };
}

export async function startPipeline(
  env: PipelineEnv,
  spec: RunSpecInput,
  options: PipelineOptions = { retryInitialInterval: '200 milliseconds' },
  /** Pass the spec as written (the workflow validates it) instead of parsing it here. */
  raw = false
): Promise<WorkflowHandle<(input: PipelineInput) => Promise<PipelineResult>>> {
  const runId = `run-${randomUUID()}`;
  const input: PipelineInput = {
    runId,
    spec: raw ? spec : parseRunSpec(spec),
    queues: env.cfg.queues,
    options,
    createdBy: 'tester',
  };
  return env.client.workflow.start('pipeline', {
    taskQueue: env.cfg.queues.control,
    workflowId: runId,
    args: [input],
  }) as never;
}

/** Decides as the API does: the decision vouched for with the store's keyring, sent as the `approve` update. */
export function decide(env: PipelineEnv, handle: WorkflowHandle, d: ApprovalDecision): Promise<ApprovalAck> {
  return handle.executeUpdate(approvalUpdate, { args: [vouch(env.store.keyring!, handle.workflowId, d)] });
}

export async function waitForStatus(
  handle: WorkflowHandle,
  status: RunStatus,
  timeoutMs = 90_000
): Promise<PipelineStatus> {
  return waitFor(
    `status ${status}`,
    async () => {
      const s = await handle.query(statusQuery);
      if (s.status === status) return s;
      if (['failed', 'succeeded', 'failed_gate', 'rejected', 'expired', 'cancelled'].includes(s.status)) {
        throw new StopWaiting(`run ended ${s.status}: ${s.reason}`);
      }
      return undefined;
    },
    timeoutMs
  );
}
