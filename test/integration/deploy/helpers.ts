// Shared setup of the rollout tests: real Temporal, real MongoDB wire and the real control
// activities, a registered model whose v1 is production, and a stats feeder that writes
// serving_stats the way inference servers do (per version, per window, $inc), so each test
// decides what a good or a bad candidate looks like to the gates, and a simulated server that
// reports every split loaded and applied (the real-server tests use real inference servers).
import type { Client, WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { vouchOverride } from '../../../lib/crypto/approval-voucher';
import { deploySchema, type DeploySpecInput } from '../../../lib/spec/deploy';
import type { Store } from '../../../lib/store/db';
import {
  fieldKey,
  LATENCY_BOUNDS_MS,
  servingInstances,
  servingStats,
  STATS_WINDOW_MS,
  trafficSplits,
} from '../../../lib/store/deployments';
import { createClient } from '../../../lib/temporal/connection';
import type { OverrideAction } from '../../../lib/workflow-safe/deploy-override';
import {
  overrideUpdate,
  rolloutQuery,
  rolloutWorkflowId,
  type RolloutStatus,
} from '../../../workflows/rollout-messages';
import type { RolloutInput, RolloutResult } from '../../../workflows/rollout';
import { startTestWorkers, workerEnv, type TestWorkers, type WorkerEnv } from '../harness/env';
import { StopWaiting, waitFor } from '../harness/wait';
import { penguinsSplit, registerPenguins, servingEnv, type Penguins, type ServingEnv } from '../serving/helpers';

/** What a rollout test holds: the fleet tests' worker env with the control worker. */
export type RolloutEnv = WorkerEnv;

/**
 * A stand-in for live inference servers where the test has none: one serving_instances document
 * that has loaded every version a split names and applies each split revision as soon as it exists.
 */
export function simulatedServer(store: Store): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const splits = await trafficSplits(store.db).find({}).toArray();
      const models = Object.fromEntries(
        splits.map((x) => [
          fieldKey(x._id),
          { loaded: [x.stable, ...(x.candidate === null ? [] : [x.candidate])], splitRevision: x.revision },
        ])
      );
      await servingInstances(store.db).updateOne(
        { _id: 'simulated' },
        { $set: { at: new Date(), pollMs: 100, models } },
        { upsert: true }
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

export async function rolloutEnv(opts: { simulateServers?: boolean } = {}): Promise<RolloutEnv> {
  const env = await workerEnv(['control']);
  const simulated = opts.simulateServers === false ? null : simulatedServer(env.store);
  return {
    ...env,
    async close() {
      await simulated?.stop();
      await env.close();
    },
  };
}

/** The world of the real-server rollout tests: a real inference server, the control worker, a client. */
export interface RealServerRollout {
  env: ServingEnv;
  workers: TestWorkers;
  client: Client;
  /** What startRollout takes (closing it closes nothing: close() below does). */
  rollout: RolloutEnv;
  close(): Promise<void>;
}

/** A real inference server over `model`: v1 (seed 1) is production, v2..v`versions` are candidates. */
export async function realServerRollout(
  model: string,
  data: Penguins,
  opts: { versions: number; serverEnv?: () => Record<string, string> }
): Promise<RealServerRollout> {
  const env = await servingEnv({
    prepare: async (s) => {
      for (let v = 1; v <= opts.versions; v++) await registerPenguins(s, model, data, { seed: v, promote: v === 1 });
    },
    serverEnv: opts.serverEnv,
  });
  const workers = await startTestWorkers(env.cfg, env.store, ['control']);
  const client = await createClient(env.cfg);
  return {
    env,
    workers,
    client,
    rollout: { cfg: env.cfg, store: env.store, client, workers, close: async () => {} },
    async close() {
      await workers.shutdown();
      await client.connection.close();
      await env.close();
    },
  };
}

const penguins = penguinsSplit();

/** A model with versions 1..n (small real penguins classifiers, so the rollout can read their inputs) and v1 holding `production`. */
export async function registeredModel(store: Store, versions = 2): Promise<string> {
  const name = `m-${randomUUID().slice(0, 8)}`;
  for (let v = 1; v <= versions; v++) await registerPenguins(store, name, penguins, { seed: v, promote: v === 1 });
  return name;
}

/** What one version answers per tick: requests, errors, the latency bucket, the predicted labels. */
export interface Traffic {
  requests: number;
  errors?: number;
  latencyMs?: number;
  predictions?: Record<string, number>;
}

/** Writes stats for each version every 100 ms (as inference servers flush) until stopped. */
export function feedStats(store: Store, model: string, perVersion: Record<number, Traffic>): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const now = Date.now();
      const windowStart = new Date(now - (now % STATS_WINDOW_MS));
      for (const [v, t] of Object.entries(perVersion)) {
        const bucket = LATENCY_BOUNDS_MS.findIndex((b) => (t.latencyMs ?? 1) <= b);
        const inc: Record<string, number> = {
          requests: t.requests,
          errors: t.errors ?? 0,
          [`latency.${bucket < 0 ? LATENCY_BOUNDS_MS.length : bucket}`]: t.requests,
        };
        for (const [label, n] of Object.entries(t.predictions ?? { a: t.requests })) inc[`predictions.${label}`] = n;
        await servingStats(store.db).updateOne(
          { _id: `${model}:${v}:test:${windowStart.getTime()}` },
          {
            $setOnInsert: { model, version: Number(v), server: 'test', windowStart, shadow: false },
            $inc: inc,
          },
          { upsert: true }
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Fast settings: a 1.5 s bake, checks every 300 ms, 20 requests decide. */
export function fastDeploy(overrides: DeploySpecInput = {}): DeploySpecInput {
  return {
    steps: [20, 50, 100],
    bake: '1500ms',
    checkEvery: '300ms',
    inconclusiveAfter: '2s',
    rollbackWindow: '2s',
    serverTimeout: '5s',
    gates: { minRequests: 20, maxErrorRate: 0.05, maxP99Ms: 100, maxPredictionShift: 0.2 },
    ...overrides,
  };
}

export type RolloutHandle = WorkflowHandle<(input: RolloutInput) => Promise<RolloutResult>>;

export async function startRollout(
  env: RolloutEnv,
  model: string,
  deploy: DeploySpecInput,
  opts: { version?: number; requestedBy?: string } = {}
): Promise<RolloutHandle> {
  const version = opts.version ?? 2;
  const input: RolloutInput = {
    deploymentId: `${model}-v${version}-${randomUUID().slice(0, 6)}`,
    model,
    version,
    deploy: deploySchema.parse(deploy),
    requestedBy: opts.requestedBy ?? 'requester',
    runId: null,
    queues: { control: env.cfg.queues.control },
    options: { retryInitialInterval: '200 milliseconds' },
  };
  return env.client.workflow.start('rollout', {
    taskQueue: env.cfg.queues.control,
    workflowId: rolloutWorkflowId(model),
    args: [input],
  }) as never;
}

/** Sends an override as the API does: vouched for with the store's keyring. */
export async function override(
  env: RolloutEnv,
  handle: RolloutHandle,
  action: OverrideAction,
  actor: string,
  reason = 'test'
) {
  const s = await handle.query(rolloutQuery);
  return handle.executeUpdate(overrideUpdate, {
    args: [vouchOverride(env.store.keyring!, s.deploymentId, { action, actor, reason })],
  });
}

export async function waitForState(
  handle: RolloutHandle,
  state: RolloutStatus['state'],
  timeoutMs = 60_000
): Promise<RolloutStatus> {
  return waitFor(
    `rollout state ${state}`,
    async () => {
      const s = await handle.query(rolloutQuery);
      if (s.state === state) return s;
      if (['succeeded', 'rolled_back', 'aborted', 'failed'].includes(s.state)) {
        throw new StopWaiting(`rollout ended ${s.state}: ${s.reason}`);
      }
      return undefined;
    },
    timeoutMs
  );
}
