// The feature store on real servers: the API in-process (features routes), the control fleet
// in-process, CPU/GPU workers as child processes (a child can be SIGKILLed). Definitions are
// applied over HTTP; a materialization is killed mid-way and must end with every partition
// recorded exactly once; the online store must agree with the offline join; a run trained from
// a feature view must record the view versions it read in its model's lineage.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { runCli } from '../../../cli/main';
import { computeFeatureRows } from '../../../lib/features/compute';
import { pointInTimeJoin } from '../../../lib/features/join';
import { featureMaterializations, getFeatureView } from '../../../lib/store/feature-views';
import { onlineFeatures, onlineId } from '../../../lib/store/features-online';
import { modelVersions } from '../../../lib/store/models';
import type { Child } from '../../../tools/stack/child';
import type {
  FeatureMaterializationInput,
  FeatureMaterializationResult,
} from '../../../workflows/feature-materialization';
import { call, startTestApi, type TestApi } from '../api/helpers';
import { spawnTestFleet } from '../harness/env';
import { spawnInference, type InferenceChild } from '../serving/helpers';
import { StopWaiting, waitFor } from '../harness/wait';
import { alive } from '../fleets/helpers';
import { HISTORIES_DIR, REPLAY_KEY } from '../pipeline/committed-histories';
import { pipelineEnv, type PipelineEnv } from '../pipeline/helpers';

const root = mkdtempSync(path.join(os.tmpdir(), 'features-data-'));
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const ENTITIES = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);
let env: PipelineEnv;
let api: TestApi;
let inference: InferenceChild | undefined;
/** Recording a history for the replay test: encrypt with the replay test's key (committed-histories.ts). */
const key: Record<string, string> = process.env.MLOPS_HISTORY_TAG ? { MLOPS_ENCRYPTION_KEYS: REPLAY_KEY } : {};
const fleet: Child[] = [];
const partitionLines: { start: number; pid: number }[] = [];

/** Deterministic events: each entity buys every few hours over 6 days. */
function writeSources(): void {
  const rows = ['customer_id,event_time,amount,orders,refunds'];
  let n = 0;
  for (let h = 0; h < 6 * 24; h += 5)
    for (const [i, c] of ENTITIES.entries()) {
      if ((h + i) % 3 === 0) continue;
      n++;
      rows.push(
        `${c},${new Date(T0 + h * 3_600_000 + i * 60_000).toISOString()},${(n * 37) % 200},${1 + (n % 5)},${n % 3}`
      );
    }
  writeFileSync(path.join(root, 'orders.csv'), rows.join('\n') + '\n');
  writeFileSync(path.join(root, 'bad-time.csv'), 'customer_id,event_time,amount\nc00,last tuesday,1\n');
  const labels = ['customer_id,label_time,churned'];
  for (let j = 0; j < 240; j++) {
    const c = ENTITIES[(j * 7) % ENTITIES.length];
    const t = T0 + DAY + ((j * 5_113_000) % (6 * DAY));
    labels.push(`${c},${new Date(t).toISOString()},${(j * 7) % ENTITIES.length < 6 ? 'yes' : 'no'}`);
  }
  writeFileSync(path.join(root, 'labels.csv'), labels.join('\n') + '\n');
}

const entity = { name: 'customer', keys: ['customer_id'] };
const view = (over: Record<string, unknown> = {}) => ({
  name: 'customer_stats',
  entity: 'customer',
  source: { path: 'orders.csv' },
  timestamp: 'event_time',
  ttl: '400d', // the events are in January 2026: still live when the inference test reads them
  features: [
    { name: 'amount' },
    { name: 'log_amount', log: 'amount' },
    { name: 'refund_rate', ratio: ['refunds', 'orders'] },
    { name: 'amount_band', bucket: 'amount', edges: [50, 150] },
    { name: 'orders_1d', window: '1d', agg: 'count' },
    { name: 'spend_2d', window: '2d', agg: 'sum', column: 'amount' },
  ],
  ...over,
});

async function cpuFleet(kinds: ('cpu' | 'gpu')[], extra: Record<string, string> = {}): Promise<Child> {
  const child = await spawnTestFleet(env.cfg, {
    kinds,
    env: extra,
    onLine: (line) => {
      const m = /FEATURE_PARTITION (\d+) (\d+)/.exec(line);
      if (m) partitionLines.push({ start: Number(m[1]), pid: Number(m[2]) });
    },
  });
  fleet.push(child);
  return child;
}

beforeAll(async () => {
  writeSources();
  env = await pipelineEnv({ fleet: false, env: { MLOPS_DATASETS_DIR: root, ...key } });
  api = await startTestApi({ cfg: { ...env.cfg, MLOPS_ADMIN_TOKEN: `admin-${randomUUID()}-features-xxxxxxxx` } });
}, 180_000);

afterAll(async () => {
  await inference?.child.stop(5_000);
  await Promise.all(fleet.map((c) => c.stop(5_000)));
  await api?.close();
  await env?.close();
});

const apply = (body: unknown) => call(api, 'POST', '/v1/features', { token: api.tokens.scientist, body });

test('bad definitions are refused with the field and the fix; versions follow the content; old versions stay readable', async () => {
  const unknown = await apply({ entities: [entity], views: [view({ features: [{ name: 'x', log: 'amount_usd' }] })] });
  expect(unknown.status).toBe(422);
  expect(unknown.body.errors).toEqual([
    {
      path: 'body.views[0].features[0]',
      message: expect.stringMatching(
        /feature 'x' reads column 'amount_usd' is not a column of orders.csv; the columns of orders.csv are: customer_id, event_time/
      ),
    },
  ]);
  const noTime = await apply({ entities: [entity], views: [view({ timestamp: undefined })] });
  expect(noTime.status).toBe(400);
  expect(noTime.body.errors).toContainEqual({
    path: 'body.views.0.features.4.window',
    message: expect.stringMatching(
      /'orders_1d' is a window aggregate but view 'customer_stats' has no timestamp; set "timestamp"/
    ),
  });
  const badTime = await apply({
    entities: [entity],
    views: [view({ source: { path: 'bad-time.csv' }, features: [{ name: 'amount' }] })],
  });
  expect(badTime.status).toBe(422);
  expect(badTime.body.errors[0]).toEqual({
    path: 'body.views[0].timestamp',
    message: expect.stringMatching(
      /line 2 of bad-time.csv: 'last tuesday' in column 'event_time' is not a timestamp; write ISO-8601/
    ),
  });
  expect((await call(api, 'GET', '/v1/features', { token: api.tokens.viewer })).body.items).toEqual([]);

  const first = await apply({ entities: [entity], views: [view({ ttl: '12h' })] });
  expect(first.status).toBe(200);
  expect(first.body.views).toEqual([{ name: 'customer_stats', version: 1, hash: expect.any(String), created: true }]);
  const again = await apply({ entities: [entity], views: [view({ ttl: '12h', description: 'same content' })] });
  expect(again.body.views[0]).toMatchObject({ version: 1, created: false });
  const changed = await apply({ entities: [entity], views: [view()] });
  expect(changed.body.views[0]).toMatchObject({ version: 2, created: true });
  expect(changed.body.views[0].hash).not.toBe(first.body.views[0].hash);

  const shown = await call(api, 'GET', '/v1/features/customer_stats', { token: api.tokens.viewer });
  expect(shown.body).toMatchObject({
    ref: 'customer_stats@v2',
    ttlMs: 400 * DAY,
    lastMaterialization: null,
    freshness: null,
  });
  expect(shown.body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  expect(shown.body.features.map((f: { kind: string }) => f.kind)).toEqual([
    'column',
    'log',
    'ratio',
    'bucket',
    'window',
    'window',
  ]);
  expect((await getFeatureView(api.store, { name: 'customer_stats', version: 1 }))?.view.ttl).toBe(12 * 3_600_000);

  let out = '';
  const code = await runCli(['features', 'list'], {
    env: { MLOPS_API_URL: api.url, MLOPS_TOKEN: api.tokens.viewer },
    stdout: (t) => (out += t),
    stderr: (t) => (out += t),
  });
  expect(code).toBe(0);
  expect(out).toMatch(/customer_stats@v2\s+customer\s+6\s+orders.csv/);
});

test('a materialization killed mid-way resumes: every partition once; a re-run is a no-op; online agrees with offline', async () => {
  const slow = await cpuFleet(['cpu'], { TEST_FEATURE_DELAY_MS: '4000' });
  const input: FeatureMaterializationInput = {
    materializationId: `fm-test-${randomUUID().slice(0, 8)}`,
    view: 'customer_stats',
    version: 2,
    start: T0,
    end: T0 + 6 * DAY,
    partitionMs: DAY,
    parallelism: 2,
    queues: { control: env.cfg.queues.control, cpu: env.cfg.queues.cpu },
    options: { heartbeatTimeout: '3 seconds', retryInitialInterval: '200 milliseconds' },
  };
  const handle = await env.client.workflow.start('featureMaterialization', {
    taskQueue: env.cfg.queues.control,
    workflowId: input.materializationId,
    args: [input],
  });
  // Killed after writing a partition's artifact and online rows, before recording it.
  const victim = await waitFor('a partition written', () => partitionLines.find((l) => l.pid === slow.proc.pid));
  process.kill(victim.pid, 'SIGKILL');
  await slow.exited;
  expect(alive(victim.pid)).toBe(false);
  await cpuFleet(['gpu', 'cpu']); // the survivor, also used by the run below
  const result = (await handle.result()) as FeatureMaterializationResult;
  expect(result).toMatchObject({ partitionsTotal: 6, partitionsDone: 6, skipped: 0 });
  // A release that changes the workflow records this history for the replay test (replay.test.ts).
  if (process.env.MLOPS_HISTORY_TAG) {
    const history = await handle.fetchHistory();
    writeFileSync(
      path.join(HISTORIES_DIR, `feature-materialization-killed-${process.env.MLOPS_HISTORY_TAG}.json`),
      JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n'
    );
  }

  const doc = (await featureMaterializations(api.store.db).findOne({ _id: input.materializationId }))!;
  expect(doc.status).toBe('succeeded');
  const starts = doc.partitions.map((p) => p.start.getTime()).sort((a, b) => a - b);
  expect(starts).toEqual(Array.from({ length: 6 }, (_, i) => T0 + i * DAY));
  const def = (await getFeatureView(api.store, { name: 'customer_stats', version: 2 }))!;
  let expectedRows = 0;
  for await (const _ of computeFeatureRows(def, { file: path.join(root, 'orders.csv'), tmpDir: root })) expectedRows++;
  expect(doc.rows).toBe(expectedRows);
  expect(partitionLines.filter((l) => l.start === victim.start).length).toBeGreaterThanOrEqual(2); // it was redone

  // Same range and version again: every partition is found done, nothing is rewritten.
  const before = await onlineFeatures(api.store.db).find().sort({ _id: 1 }).toArray();
  const rerun = (await env.client.workflow.execute('featureMaterialization', {
    taskQueue: env.cfg.queues.control,
    workflowId: input.materializationId,
    args: [input],
  })) as FeatureMaterializationResult;
  expect(rerun).toMatchObject({ skipped: 6, rows: 0 });
  expect(
    (await featureMaterializations(api.store.db).findOne({ _id: input.materializationId }))!.partitions
  ).toHaveLength(6);
  expect(await onlineFeatures(api.store.db).find().sort({ _id: 1 }).toArray()).toEqual(before);

  // Online (latest within the range) = the point-in-time join as of the range's last instant.
  const labels = path.join(root, 'online-labels.csv');
  const asOf = new Date(input.end - 1).toISOString();
  writeFileSync(labels, ['customer_id,label_time', ...ENTITIES.map((c) => `${c},${asOf}`)].join('\n') + '\n');
  const out = path.join(root, 'online-join.csv');
  await pointInTimeJoin({
    labels,
    labelsName: 'online-labels.csv',
    timestamp: 'label_time',
    views: [{ ...def, file: path.join(root, 'orders.csv'), ref: 'customer_stats@v2' }],
    out,
    tmpDir: root,
  });
  const [header, ...rows] = (await readFile(out, 'utf8')).trim().split('\n');
  expect(header).toBe(def.view.features.map((f) => f.name).join(','));
  for (const [i, c] of ENTITIES.entries()) {
    const online = await onlineFeatures(api.store.db).findOne({ _id: onlineId('customer_stats', 2, c) });
    expect(online).not.toBeNull();
    const values = def.view.features.map((f) => online!.values[f.name]);
    expect(values.map((v) => (v === null ? '' : String(v))).join(',')).toBe(rows[i]);
  }
  const shown = await call(api, 'GET', '/v1/features/customer_stats', { token: api.tokens.viewer });
  expect(shown.body.lastMaterialization).toMatchObject({
    id: input.materializationId,
    partitions: 6,
    rows: expectedRows,
  });
  expect(shown.body.freshness.materializedUntil).toBe(new Date(input.end).toISOString());
}, 240_000);

test('a run trained from a feature view records its view versions, reaches production, and serves by entity id', async () => {
  const model = `churn-${randomUUID().slice(0, 6)}`;
  const started = await call(api, 'POST', '/v1/runs', {
    token: api.tokens.scientist,
    body: {
      model,
      dataset: { features: { entities: 'labels.csv', timestamp: 'label_time', views: ['customer_stats@v2'] } },
      target: 'churned',
      trainer: { epochs: 5, hidden: [8], patience: 0 },
      gates: { maxRegression: null },
      approval: { timeout: '10m' },
    },
  });
  expect(started.status).toBe(202);
  const runId: string = started.body.runId;
  await waitFor(
    `run ${runId} awaiting approval`,
    async () => {
      const r = await call(api, 'GET', `/v1/runs/${runId}`, { token: api.tokens.viewer });
      if (['failed', 'failed_gate', 'cancelled'].includes(r.body.status))
        throw new StopWaiting(`run ended ${r.body.status}: ${JSON.stringify(r.body.error)}`);
      return r.body.status === 'awaiting_approval' ? r.body : undefined;
    },
    180_000
  );
  const version = (await modelVersions(api.store.db).findOne({ runId }))!;
  const def = (await getFeatureView(api.store, { name: 'customer_stats', version: 2 }))!;
  const m = (await featureMaterializations(api.store.db).findOne({ view: 'customer_stats', status: 'succeeded' }))!;
  expect(version.lineage.featureViews).toEqual([
    {
      view: 'customer_stats',
      version: 2,
      hash: expect.any(String),
      source: 'orders.csv',
      materialization: { id: m._id, end: m.end.toISOString() },
      matched: 240,
      expired: 0,
      missing: 0,
    },
  ]);
  expect(version.lineage.datasetSource).toBe('features:labels.csv+customer_stats@v2');
  expect(version.lineage.features.map((f) => f.name).sort()).toEqual([
    'amount',
    'amount_band',
    'log_amount',
    'orders_1d',
    'refund_rate',
    'spend_2d',
  ]);

  // Approved, it holds `production`; the inference server fills features in from the online store.
  const approved = await call(api, 'POST', `/v1/runs/${runId}/approval`, {
    token: api.tokens.approver,
    body: { decision: 'approve' },
  });
  expect(approved.status).toBe(202);
  await waitFor('run succeeded', async () => {
    const r = await call(api, 'GET', `/v1/runs/${runId}`, { token: api.tokens.viewer });
    return r.body.status === 'succeeded' ? r.body : undefined;
  });
  expect(
    (await call(api, 'GET', `/v1/models/${model}`, { token: api.tokens.viewer })).body.aliases.production
  ).toMatchObject({
    version: version.version,
  });
  inference = await spawnInference(env.cfg, key);
  const infer = async (body: unknown) => {
    const res = await fetch(`${inference!.url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.tokens.predictor}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const ids = ['c01', 'c07', 'nobody'];
  const byId = await infer({ inputs: [{ name: 'customer_id', shape: [3], datatype: 'BYTES', data: ids }] });
  expect(byId.status).toBe(200);
  const docs = await Promise.all(
    ids.map((c) => onlineFeatures(api.store.db).findOne({ _id: onlineId('customer_stats', 2, c) }))
  );
  expect(byId.body.parameters.feature_timestamps).toEqual({
    'customer_stats@v2': [docs[0]!.t.toISOString(), docs[1]!.t.toISOString(), null],
  });
  const names = def.view.features.map((f) => f.name);
  const columns = names.map((n) => ({
    name: n,
    shape: [3],
    datatype: 'FP32',
    data: docs.map((d) => (d ? d.values[n] : null)),
  }));
  const byColumns = await infer({ inputs: columns });
  expect(byColumns.status).toBe(200);
  expect(byColumns.body.parameters).toBeUndefined();
  expect(byId.body.outputs).toEqual(byColumns.body.outputs);
  const noKey = await infer({ inputs: [{ name: 'region', shape: [1], datatype: 'BYTES', data: ['eu'] }] });
  expect(noKey).toMatchObject({
    status: 400,
    body: { error: expect.stringMatching(/or the entity key input\(s\) 'customer_id' of view customer_stats@v2/) },
  });
}, 300_000);
