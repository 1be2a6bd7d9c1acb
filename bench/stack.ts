// What the stack benchmarks share: command-line flags, the embedded servers on free ports with a
// config of their own (database, task queues, data dir), the workflow bundle built once, the
// control fleet in the bench process, and timestamps of history events.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig, type Config } from '../lib/config';
import { openStore, type Store } from '../lib/store/db';
import { createClient, createWorkerConnection } from '../lib/temporal/connection';
import { provisionTools } from '../tools/provision';
import { startEmbeddedServers, type EmbeddedServers } from '../tools/stack/services';
import { createFleetWorker } from '../workers/bootstrap';
import { bundleWorkflows } from '../workers/workflow-bundle';

export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

/** Milliseconds of a protobuf timestamp (history event times). */
export function ms(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!t) return NaN;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

/** Bundler and worker logs: errors only. */
export const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

export interface BenchStack {
  /** Unique per bench process: databases, queues and workflow ids carry it. */
  id: string;
  dir: string;
  servers: EmbeddedServers;
  /** Database `bench_<id>`, queues `<fleet>-<id>`, data dir in `dir`; overrides go on top. */
  config(overrides?: Record<string, string>): Config;
  /** workflows/ bundled once, as the control workers bundle it (interceptors, failure converter). */
  workflowCode: string;
  /** Stops the servers and removes `dir`. */
  close(): Promise<void>;
}

export async function startBenchStack(prefix: string): Promise<BenchStack> {
  const tools = await provisionTools(loadConfig(), () => undefined);
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const servers = await startEmbeddedServers(tools, dir);
  const id = randomUUID().slice(0, 8);
  const config = (overrides: Record<string, string> = {}) =>
    loadConfig({
      ...process.env,
      TEMPORAL_ADDRESS: servers.temporalAddress,
      MONGODB_URI: servers.mongoUri,
      MONGODB_DB: `bench_${id}`,
      MLOPS_DATA_DIR: path.join(dir, 'data'),
      MLOPS_CONTROL_QUEUE: `control-${id}`,
      MLOPS_GPU_QUEUE: `gpu-${id}`,
      MLOPS_CPU_QUEUE: `cpu-${id}`,
      MLOPS_LOG_LEVEL: 'warn',
      ...overrides,
    });
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  try {
    const code = await bundleWorkflows();
    return {
      id,
      dir,
      servers,
      config,
      workflowCode: code,
      async close() {
        await servers.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await servers.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface ControlFleet {
  store: Store;
  client: Client;
  /** Stops the worker and closes the connections and the store (not the stack). */
  close(): Promise<void>;
}

/** The control fleet running in the bench process on the stack's bundle, with a client and the store of `cfg`. */
export async function startControlFleet(stack: BenchStack, cfg: Config): Promise<ControlFleet> {
  const store = await openStore(cfg);
  const connection = await createWorkerConnection(cfg);
  const worker = await createFleetWorker({
    kind: 'control',
    cfg,
    connection,
    activities: createActivities({ cfg, store }).control,
    workflowBundle: { code: stack.workflowCode },
  });
  const running = worker.run();
  const client = await createClient(cfg);
  return {
    store,
    client,
    async close() {
      worker.shutdown();
      await running;
      await connection.close();
      await client.connection.close();
      await store.close();
    },
  };
}
