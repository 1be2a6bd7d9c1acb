// Data residency end to end, on real servers: the API refuses a run for a region with no fleet
// (or one its dataset may not go to), a run on eu data executes only on the eu fleet and
// records where each step ran, and the workers refuse another region's work a routing bug
// sends them (the activity guard and the workflow's own check).
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../../lib/config';
import { parseRunSpec } from '../../../lib/spec';
import { getRunEvents } from '../../../lib/store/events';
import { getRun, runs } from '../../../lib/store/runs';
import { createClient } from '../../../lib/temporal/connection';
import { regionQueues } from '../../../lib/workflow-safe/queues';
import type { Child } from '../../../tools/stack/child';
import type { DistributedTrainingResult } from '../../../workflows/distributed-training';
import type { PipelineInput, PipelineResult } from '../../../workflows/pipeline';
import { reconcileRunIndex } from '../../../api/reconciler';
import { apiTestConfig, call, startTestApi, type TestApi } from '../api/helpers';
import { spawnTestFleet, startTestWorkers, testConfig, type TestWorkers } from '../harness/env';
import { penguinsSpec } from '../pipeline/helpers';

const datasets = mkdtempSync(path.join(os.tmpdir(), 'mlops-regions-'));
let api: TestApi;
let client: Client;
const workers: TestWorkers[] = [];
let euFleet: Child;

/** The API's database, queues and datasets, as a worker of `region`. */
function regionConfig(region: string): Config {
  const c = api.cfg;
  return testConfig({
    MONGODB_DB: c.MONGODB_DB,
    MLOPS_CONTROL_QUEUE: c.queues.control,
    MLOPS_GPU_QUEUE: c.queues.gpu,
    MLOPS_CPU_QUEUE: c.queues.cpu,
    MLOPS_DATA_DIR: c.dataDir,
    MLOPS_DATASETS_DIR: c.datasetsDir,
    MLOPS_DATASET_REGIONS: 'eu=eu',
    MLOPS_WORKER_REGION: region,
  });
}

beforeAll(async () => {
  const penguins = path.resolve(__dirname, '../../../datasets/penguins.csv');
  for (const folder of ['eu', 'public']) {
    mkdirSync(path.join(datasets, folder));
    copyFileSync(penguins, path.join(datasets, folder, 'penguins.csv'));
  }
  api = await startTestApi({
    cfg: apiTestConfig({ MLOPS_DATASETS_DIR: datasets, MLOPS_DATASET_REGIONS: 'eu=eu', MLOPS_REGIONS: 'eu,us' }),
  });
  client = await createClient(api.cfg);
  // eu: a whole fleet; us: only a control worker (enough to schedule, never to process data).
  const [euControl, usControl, fleet] = await Promise.all([
    startTestWorkers(regionConfig('eu'), api.store, ['control']),
    startTestWorkers(regionConfig('us'), api.store, ['control']),
    spawnTestFleet(regionConfig('eu')),
  ]);
  workers.push(euControl, usControl);
  euFleet = fleet;
});

afterAll(async () => {
  await euFleet?.stop(5_000);
  for (const w of workers) await w.shutdown();
  await client?.connection.close();
  await api?.close();
});

const trainer = { epochs: 20, batchSize: 32, learningRate: 0.02, hidden: [8], patience: 0 };

test('the API refuses a run for a region with no fleet, or outside its dataset region, and records nothing', async () => {
  const model = `refused-${randomUUID().slice(0, 6)}`;
  const noFleet = await call(api, 'POST', '/v1/runs', {
    token: api.tokens.scientist,
    body: { model, dataset: { path: 'public/penguins.csv' }, target: 'species', region: 'ap' },
  });
  expect(noFleet.status).toBe(422);
  expect(noFleet.body.detail).toMatch(/no worker fleet is configured for region 'ap' \(MLOPS_REGIONS lists: eu, us\)/);
  expect(noFleet.body.errors[0].path).toBe('body.region');

  const elsewhere = await call(api, 'POST', '/v1/runs', {
    token: api.tokens.scientist,
    body: { model, dataset: { path: 'eu/penguins.csv' }, target: 'species', region: 'us' },
  });
  expect(elsewhere.status).toBe(422);
  expect(elsewhere.body.detail).toMatch(/the dataset is in region 'eu'.*a run in region 'us' may not read it/);
  expect(await runs(api.store.db).countDocuments({ model })).toBe(0);
});

test('a run on eu data runs on the eu fleet only and records where each step ran', async () => {
  const spec = penguinsSpec({ dataset: { path: 'eu/penguins.csv' }, trainer, approval: { required: false } });
  const started = await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, body: spec });
  expect(started.status).toBe(202);
  const runId = started.body.runId as string;

  const result = (await client.workflow.getHandle(runId).result()) as PipelineResult;
  expect(result.status).toBe('succeeded');
  expect((await getRun(api.store, runId))?.spec).toMatchObject({ region: 'eu' });
  const events = await getRunEvents(api.store, runId);
  const steps = events.filter((e) => e.queue !== 'workflow');
  expect(steps.map((e) => e.step)).toEqual(expect.arrayContaining(['ingest', 'validate', 'train', 'evaluate']));
  for (const e of steps) {
    expect(e).toMatchObject({ region: 'eu', queue: expect.stringMatching(/@eu$/) });
    expect(e.worker).toMatch(/\/\d+$/);
  }
});

test('a long eu data-parallel training that continues as new keeps its region', async () => {
  const runId = `long-eu-${randomUUID()}`;
  const spec = parseRunSpec(
    penguinsSpec({
      dataset: { path: 'eu/penguins.csv' },
      trainer: { ...trainer, epochs: 6, workers: 2 },
      approval: { required: false },
    })
  );
  const eu = regionQueues(api.cfg.queues, 'eu');
  const input: PipelineInput = { runId, spec, region: 'eu', queues: eu, options: { trainHistoryLimit: 20 } };
  const handle = await client.workflow.start('pipeline', { taskQueue: eu.control, workflowId: runId, args: [input] });
  expect(((await handle.result()) as PipelineResult).status).toBe('succeeded');
  const training = (await client.workflow.getHandle(`${runId}-train`).result()) as DistributedTrainingResult;
  expect(training.generations).toBeGreaterThanOrEqual(1); // it did continue as new
  const events = await getRunEvents(api.store, runId);
  expect(events.filter((e) => e.queue !== 'workflow').every((e) => e.region === 'eu')).toBe(true);
});

async function failureOf(input: PipelineInput, taskQueue: string): Promise<Error> {
  const handle = await client.workflow.start('pipeline', { taskQueue, workflowId: input.runId, args: [input] });
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as Error;
}

test('an eu worker refuses the activity of a us run that a routing bug sent to the eu queues', async () => {
  const runId = `misrouted-${randomUUID()}`;
  const spec = parseRunSpec(penguinsSpec({ dataset: { path: 'public/penguins.csv' }, trainer }));
  const eu = regionQueues(api.cfg.queues, 'eu');
  const us = regionQueues(api.cfg.queues, 'us');
  const cause = await failureOf(
    {
      runId,
      spec,
      region: 'us',
      queues: { ...eu, control: us.control },
      options: { retryInitialInterval: '100 milliseconds' },
    },
    us.control
  );
  expect(cause.message).toMatch(
    /failed at ingest: worker of region 'eu' refused activity ingest of run misrouted-[\w-]+ in region 'us'/
  );
  // Nothing of the run was processed on the eu fleet.
  expect((await getRunEvents(api.store, runId)).filter((e) => e.region === 'eu')).toEqual([]);
  // Started beside the API on a regional control queue, the run still reaches the API's index.
  await reconcileRunIndex(api.app.ctx, Date.now() - 60_000);
  const listed = await call(api, 'GET', `/v1/runs?model=${spec.model}`, { token: api.tokens.viewer });
  expect(listed.body.items.map((r: { runId: string }) => r.runId)).toEqual([runId]);
});

test("a workflow refuses to run on another region's control queue", async () => {
  const runId = `wrong-control-${randomUUID()}`;
  const spec = parseRunSpec(penguinsSpec({ dataset: { path: 'public/penguins.csv' }, trainer }));
  const queues = regionQueues(api.cfg.queues, 'eu');
  const cause = await failureOf({ runId, spec, region: 'us', queues }, queues.control);
  expect(cause.message).toMatch(
    new RegExp(
      `run ${runId} is in region 'us' but was started on task queue '${queues.control}'.*refused for data residency`
    )
  );
});
