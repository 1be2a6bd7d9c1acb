// Fleet pools: a worker with MLOPS_WORKER_POOL=eu polls `<queue>@eu` only, so a run whose queues
// name the pool runs there and nowhere else; a run for another pool waits for that pool's workers.
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../../lib/config';
import { openStore, type Store } from '../../../lib/store/db';
import { createClient } from '../../../lib/temporal/connection';
import { poolQueue } from '../../../lib/temporal/queues';
import type { CommandTrainingInput } from '../../../workflows/command-training';
import { startTestWorkers, testConfig, type TestWorkers } from '../harness/env';
import { FIXTURE_TRAINER, until } from './helpers';

let cfg: Config;
let store: Store;
let client: Client;
const running: TestWorkers[] = [];

/** The same test database and queues, as a worker of `pool`. */
function poolConfig(pool: string): Config {
  return testConfig({
    MONGODB_DB: cfg.MONGODB_DB,
    MLOPS_CONTROL_QUEUE: cfg.queues.control,
    MLOPS_GPU_QUEUE: cfg.queues.gpu,
    MLOPS_CPU_QUEUE: cfg.queues.cpu,
    MLOPS_DATA_DIR: cfg.dataDir,
    MLOPS_WORKER_POOL: pool,
  });
}

beforeAll(async () => {
  cfg = testConfig();
  store = await openStore(cfg);
  client = await createClient(cfg);
  running.push(await startTestWorkers(cfg, store, ['control']));
  running.push(await startTestWorkers(poolConfig('eu'), store, ['gpu']));
});

afterAll(async () => {
  for (const w of running) await w.shutdown();
  await client?.connection.close();
  await store?.close();
});

function start(pool: string) {
  const runId = `pool-${pool}-${randomUUID()}`;
  const input: CommandTrainingInput = {
    train: {
      runId,
      trainer: { command: [process.execPath, FIXTURE_TRAINER], params: { epochs: 1 }, timeout: 60_000 },
      shards: [],
    },
    queues: { gpu: poolQueue(cfg.queues.gpu, pool) },
    options: { retryInitialInterval: '100 milliseconds' },
  };
  return client.workflow.start('commandTraining', { taskQueue: cfg.queues.control, workflowId: runId, args: [input] });
}

test('a run routed to @eu runs on the eu fleet; one routed to @us waits for a us worker', async () => {
  const us = await start('us');
  const eu = await start('eu');
  await eu.result();
  // The eu run is done; the us run's training is still scheduled, not started, on its own queue.
  const pending = await until('the us activity to be scheduled', async () => {
    const d = await us.describe();
    return d.raw.pendingActivities?.length ? d.raw.pendingActivities[0] : null;
  });
  expect(pending.activityType?.name).toBe('commandTrain');
  expect(Number(pending.attempt)).toBe(1);
  expect(String(pending.state)).not.toMatch(/STARTED|2/);
  expect((await us.describe()).status.name).toBe('RUNNING');
  running.push(await startTestWorkers(poolConfig('us'), store, ['gpu']));
  await us.result();
});
