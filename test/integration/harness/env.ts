// What integration test files use: a Config pointing at the run's shared servers (with a
// database and task queues of their own, so test files never see each other's work),
// the workflow bundle built once per run, and fleet workers in-process or as children.
import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createActivities } from '../../../activities';
import { Config, loadConfig } from '../../../lib/config';
import { openStore, type Store } from '../../../lib/store/db';
import { createClient, createWorkerConnection } from '../../../lib/temporal/connection';
import { Child, repoScript } from '../../../tools/stack/child';
import { createFleetWorker, FleetKind } from '../../../workers/bootstrap';
import { createFixtureActivities } from './fixtures/activities';
import { HARNESS } from './state';

const ROOT = path.resolve(__dirname, '../../..');

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run integration tests through jest (the global setup sets it).`);
  return value;
}

/** Env for a process that should talk to the test servers, isolated by a fresh id. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const id = randomUUID().slice(0, 8);
  return {
    TEMPORAL_ADDRESS: required(HARNESS.temporal),
    TEMPORAL_NAMESPACE: 'default',
    MONGODB_URI: required(HARNESS.mongo),
    MONGODB_DB: `test_${id}`,
    MLOPS_CONTROL_QUEUE: `control-${id}`,
    MLOPS_GPU_QUEUE: `gpu-${id}`,
    MLOPS_CPU_QUEUE: `cpu-${id}`,
    MLOPS_DATA_DIR: path.join(required(HARNESS.dir), `data-${id}`),
    MLOPS_DATASETS_DIR: path.join(ROOT, 'datasets'),
    MLOPS_TOOLS_DIR: path.join(ROOT, '.tools'),
    MLOPS_WORKER_SHUTDOWN_GRACE_MS: '2000',
    MLOPS_LOG_LEVEL: 'warn',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(testEnv(overrides));
}

/** The env a config came from, to hand to a child process. */
export function configEnv(cfg: Config): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: cfg.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: cfg.TEMPORAL_NAMESPACE,
    MONGODB_URI: cfg.MONGODB_URI,
    MONGODB_DB: cfg.MONGODB_DB,
    MLOPS_CONTROL_QUEUE: cfg.queues.control,
    MLOPS_GPU_QUEUE: cfg.queues.gpu,
    MLOPS_CPU_QUEUE: cfg.queues.cpu,
    MLOPS_DATA_DIR: cfg.dataDir,
    MLOPS_DATASETS_DIR: cfg.datasetsDir,
    MLOPS_TOOLS_DIR: cfg.toolsDir,
    MLOPS_WORKER_SHUTDOWN_GRACE_MS: String(cfg.MLOPS_WORKER_SHUTDOWN_GRACE_MS),
    MLOPS_LOG_LEVEL: cfg.MLOPS_LOG_LEVEL,
    MLOPS_REGIONS: cfg.MLOPS_REGIONS.join(','),
    MLOPS_DATASET_REGIONS: cfg.MLOPS_DATASET_REGIONS.map((d) => `${d.folder}=${d.region}`).join(','),
    ...(cfg.MLOPS_WORKER_REGION ? { MLOPS_WORKER_REGION: cfg.MLOPS_WORKER_REGION } : {}),
  };
}

export function workflowBundle(): { codePath: string } {
  return { codePath: required(HARNESS.bundle) };
}

export function fixtureWorkflowBundle(): { codePath: string } {
  return { codePath: required(HARNESS.fixtureBundle) };
}

export interface TestWorkers {
  workers: Worker[];
  shutdown(): Promise<void>;
}

/**
 * Runs the fixture workflow storeRoundTrip on fleet workers created here (control, and cpu with the
 * fixture activity that writes `value` under `key` to MongoDB and reads it back): what it read,
 * and the workflow's history.
 */
export async function runStoreRoundTrip(cfg: Config, db: Db, workflowId: string, key: string, value: string) {
  const connection = await createWorkerConnection(cfg);
  const client = await createClient(cfg);
  try {
    const control = await createFleetWorker({
      kind: 'control',
      cfg,
      connection,
      activities: {},
      workflowBundle: fixtureWorkflowBundle(),
    });
    const cpu = await createFleetWorker({ kind: 'cpu', cfg, connection, activities: createFixtureActivities(db) });
    const result = await control.runUntil(
      cpu.runUntil(
        client.workflow.execute('storeRoundTrip', {
          taskQueue: cfg.queues.control,
          workflowId,
          args: [{ key, value, cpuQueue: cfg.queues.cpu }],
        })
      )
    );
    return { result, history: await client.workflow.getHandle(workflowId).fetchHistory() };
  } finally {
    await client.connection.close();
    await connection.close();
  }
}

/** Runs fleet workers in this process until shutdown(). */
export async function startTestWorkers(
  cfg: Config,
  store: Store,
  kinds: FleetKind[] = ['control', 'gpu', 'cpu']
): Promise<TestWorkers> {
  const connection: NativeConnection = await createWorkerConnection(cfg);
  const activities = createActivities({ cfg, store });
  const workers = await Promise.all(
    kinds.map((kind) =>
      createFleetWorker({ kind, cfg, connection, activities: activities[kind], workflowBundle: workflowBundle() })
    )
  );
  const running = workers.map((w) => w.run());
  return {
    workers,
    async shutdown() {
      workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
      await Promise.all(running);
      await connection.close();
    },
  };
}

export interface WorkerEnv {
  cfg: Config;
  store: Store;
  client: Client;
  workers: TestWorkers;
  close(): Promise<void>;
}

/** Config, store, Temporal client and in-process workers of `kinds`: the setup fleet tests share. */
export async function workerEnv(kinds: FleetKind[]): Promise<WorkerEnv> {
  const cfg = testConfig();
  const store = await openStore(cfg);
  const client = await createClient(cfg);
  const workers = await startTestWorkers(cfg, store, kinds);
  return {
    cfg,
    store,
    client,
    workers,
    async close() {
      await workers.shutdown();
      await client.connection.close();
      await store.close();
    },
  };
}

/**
 * Fleet workers with test hooks as a real child process (harness/fleet-entry.ts), resolved once
 * they poll. `env` sets the hooks (TEST_EPOCH_DELAY_MS, TEST_SHARD_DELAY_MS) or overrides config;
 * `onLine` sees every output line (TEST_VERBOSE=1 also prints them).
 */
export async function spawnTestFleet(
  cfg: Config,
  opts: { kinds?: FleetKind[]; env?: Record<string, string>; onLine?: (line: string) => void } = {}
): Promise<Child> {
  const kinds = opts.kinds ?? ['gpu', 'cpu'];
  const child = repoScript(`fleet-${kinds.join('+')}`, path.join(__dirname, 'fleet-entry.ts'), {
    env: {
      ...configEnv(cfg),
      ...(cfg.MLOPS_ENCRYPTION_KEYS ? { MLOPS_ENCRYPTION_KEYS: cfg.MLOPS_ENCRYPTION_KEYS } : {}),
      TEST_FLEET_KINDS: kinds.join(','),
      ...opts.env,
    },
    sink: (line) => {
      opts.onLine?.(line);
      if (process.env.TEST_VERBOSE) console.log(line);
    },
  });
  await child.waitForLine(/FLEET READY/, 90_000);
  return child;
}
