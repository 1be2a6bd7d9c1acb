/** @jest-environment ./test/unit/ml/ort-environment.js */
// Batch inference on real servers: the API in-process, the control fleet in-process, CPU workers
// as child processes (onnxruntime runs there, and a child can be SIGKILLed). Each test starts its
// job through POST /v1/batch-predictions or the workflow itself and checks the downloaded output
// against predict-onnx run directly on the same rows.
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../../cli/main';
import { readManifest, streamParts } from '../../../lib/batch/manifest';
import type { ArtifactRef } from '../../../lib/store/artifacts';
import { getBatch, type BatchDoc } from '../../../lib/store/batch-predictions';
import { Worker } from '@temporalio/worker';
import { createClient, createDataConverter } from '../../../lib/temporal/connection';
import type { Child } from '../../../tools/stack/child';
import type { BatchInferenceInput, BatchResult } from '../../../workflows/batch-inference';
import { batchProgressQuery } from '../../../workflows/batch-messages';
import { apiTestConfig, call, expectProblem, startTestApi, type TestApi } from '../api/helpers';
import { spawnTestFleet, startTestWorkers, workflowBundle, type TestWorkers } from '../harness/env';
import { waitFor } from '../harness/wait';
import { alive } from '../fleets/helpers';
import { datasetsRoot, expectedCsv, registerPenguins, writePenguinsCsv } from './helpers';

const MODEL = 'penguins-batch';
const root = datasetsRoot();
let api: TestApi;
let control: TestWorkers;
let client: Client;
let onnx: Uint8Array;
const fleet: Child[] = [];
const batchLines: { chunk: number; offset: number; pid: number }[] = [];
/** Workflow ids whose histories the last test replays: a resumed job (and its windows), a failed one. */
const replayIds: string[] = [];

async function cpuWorker(env: Record<string, string> = {}): Promise<Child> {
  const child = await spawnTestFleet(api.cfg, {
    kinds: ['cpu'],
    env,
    onLine: (line) => {
      const m = /BATCH (\d+) (\d+) (\d+)/.exec(line);
      if (m) batchLines.push({ chunk: Number(m[1]), offset: Number(m[2]), pid: Number(m[3]) });
    },
  });
  fleet.push(child);
  return child;
}

beforeAll(async () => {
  api = await startTestApi({ cfg: apiTestConfig({ MLOPS_DATASETS_DIR: root }) });
  client = await createClient(api.cfg);
  control = await startTestWorkers(api.cfg, api.store, ['control']);
  onnx = await registerPenguins(api.store, MODEL);
});

afterAll(async () => {
  await Promise.all(fleet.map((c) => c.stop(5_000)));
  await control?.shutdown();
  await client?.connection.close();
  await api?.close();
});

async function start(body: Record<string, unknown>, token = api.tokens.scientist): Promise<string> {
  const r = await call(api, 'POST', '/v1/batch-predictions', { token, body: { model: MODEL, ...body } });
  expect(r.status).toBe(202);
  return (r.body as { batchId: string }).batchId;
}

async function ended(batchId: string): Promise<BatchDoc> {
  return waitFor(
    `batch ${batchId} to end`,
    async () => {
      const doc = await getBatch(api.store, batchId);
      return doc && ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : null;
    },
    120_000
  );
}

async function text(path: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(api.url + path, { headers: { authorization: `Bearer ${api.tokens.viewer}` } });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

async function artifacts(ref: ArtifactRef): Promise<string> {
  const parts: Buffer[] = [];
  await streamParts(api.store, await readManifest(api.store, ref), async (b) => void parts.push(b));
  return Buffer.concat(parts).toString('utf8');
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

test('a CPU worker SIGKILLed mid-chunk: the retry resumes from its offset; every row once, in order, exact', async () => {
  const file = writePenguinsCsv(root, 'kill.csv', 3); // 1032 rows: 2 chunks, one window each
  const slow = await cpuWorker({ TEST_BATCH_DELAY_MS: '400' });
  const batchId = `batch-kill-${randomUUID().slice(0, 8)}`;
  const input: BatchInferenceInput = {
    batchId,
    model: MODEL,
    ref: { alias: 'production' },
    input: { path: 'kill.csv' },
    format: 'csv',
    idColumn: 'pid',
    maxErrorRate: 0,
    queues: { control: api.cfg.queues.control, cpu: api.cfg.queues.cpu },
    limits: { chunkRows: 600, parallelism: 2, windowChunks: 1, sliceRows: 40, checkpointMs: 0 },
    options: { heartbeatTimeout: '3 seconds', retryInitialInterval: '200 milliseconds' },
  };
  // The API created the document for jobs it starts; a workflow started directly records into none.
  const handle = await client.workflow.start('batchInference', {
    taskQueue: api.cfg.queues.control,
    workflowId: batchId,
    args: [input],
  });
  // Heartbeats reach the server at most every 0.8 x heartbeatTimeout (2.4 s): kill well after one.
  const victim = await waitFor('a chunk past its first slices', () =>
    batchLines.find((l) => l.pid === slow.proc.pid && l.offset >= 400)
  );
  const progress = await handle.query(batchProgressQuery);
  expect(progress.rowsTotal).toBe(1032);
  expect(progress.version).toBe(1);
  process.kill(victim.pid, 'SIGKILL');
  await slow.exited;
  expect(alive(victim.pid)).toBe(false);
  await cpuWorker(); // the survivor fleet
  const result = (await handle.result()) as BatchResult;
  replayIds.push(batchId, `${batchId}-w0`, `${batchId}-w1`);
  expect(result.rows).toBe(1032);
  expect(result.windows).toBe(2); // 2 chunks, 1 per child workflow
  expect(result.resumedChunks).toBeGreaterThanOrEqual(1);
  // The resumed chunk started at an offset, not at 0 (its first line on the new worker).
  const resumed = batchLines.filter((l) => l.chunk === victim.chunk && l.pid !== victim.pid);
  expect(resumed[0].offset).toBeGreaterThan(0);

  // Started without the API, so there is no document to download through: read the manifest.
  const out = await artifacts(result.output);
  const got = lines(out);
  expect(got[0]).toBe('row,pid,prediction,p_Adelie,p_Chinstrap,p_Gentoo');
  expect(got.slice(1)).toEqual(await expectedCsv(onnx, file));
});

test('POST /v1/batch-predictions: exact output equals predict-onnx on the same rows; progress and JSONL', async () => {
  const file = writePenguinsCsv(root, 'exact.csv', 2);
  const batchId = await start({ input: 'exact.csv', idColumn: 'pid', chunkRows: 200, parallelism: 3 });
  const doc = await ended(batchId);
  expect(doc.status).toBe('succeeded');
  expect(doc.version).toBe(1);
  const shown = await call(api, 'GET', `/v1/batch-predictions/${batchId}`, { token: api.tokens.viewer });
  expect(shown.body).toMatchObject({
    status: 'succeeded',
    version: 1,
    progress: { rowsDone: 688, rowsTotal: 688, rowsFailed: 0, fraction: 1, chunksTotal: 4 },
  });
  const out = await text(`/v1/batch-predictions/${batchId}/output`);
  expect(out.status).toBe(200);
  expect(out.type).toMatch(/^text\/csv/);
  expect(lines(out.body).slice(1)).toEqual(await expectedCsv(onnx, file));
  const errors = await text(`/v1/batch-predictions/${batchId}/errors`);
  expect(errors.body).toBe('');

  const jsonl = await start({ input: 'exact.csv', format: 'jsonl' });
  expect((await ended(jsonl)).status).toBe('succeeded');
  const rows = lines((await text(`/v1/batch-predictions/${jsonl}/output`)).body).map((l) => JSON.parse(l));
  expect(rows.map((r) => r.row)).toEqual(Array.from({ length: 688 }, (_, i) => i + 1));
  const expected = await expectedCsv(onnx, file);
  expect(rows.map((r) => r.prediction)).toEqual(expected.map((l) => l.split(',')[2]));
  expect(Object.keys(rows[0].probabilities)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
});

test('bad rows go to the errors file with line and reason; past maxErrorRate the job fails, non-retryably', async () => {
  const bad = new Set([5, 77, 300]);
  const file = writePenguinsCsv(root, 'bad.csv', 1, {
    mutate: (cells, row) => (bad.has(row) ? cells.map((c, i) => (i === 3 ? 'long' : c)) : cells),
  });
  const ok = await start({ input: 'bad.csv', idColumn: 'pid', maxErrorRate: 0.01, chunkRows: 100 });
  const okDoc = await ended(ok);
  expect(okDoc.status).toBe('succeeded');
  expect(okDoc.rowsFailed).toBe(3);
  const errors = lines((await text(`/v1/batch-predictions/${ok}/errors`)).body).map((l) => JSON.parse(l));
  expect(errors).toEqual(
    [...bad].map((row) => ({ row, line: row + 1, reason: "column 'bill_length_mm' is 'long', which is not a number" }))
  );
  const out = lines((await text(`/v1/batch-predictions/${ok}/output`)).body).slice(1);
  expect(out).toEqual(await expectedCsv(onnx, file, bad));

  const strict = await start({ input: 'bad.csv', maxErrorRate: 0.005, chunkRows: 100 });
  const failed = await ended(strict);
  replayIds.push(ok, strict);
  expect(failed.status).toBe('failed');
  expect(failed.error?.message).toMatch(/3 of 344 rows could not be scored, more than maxErrorRate 0.005 allows \(1\)/);
  expect(failed.error?.type).toBe('BatchErrorRateExceeded');
  const failure = await client.workflow
    .getHandle(strict)
    .result()
    .catch((e: Error) => e);
  expect((failure as Error & { cause?: unknown }).cause).toMatchObject({
    type: 'BatchErrorRateExceeded',
    nonRetryable: true,
  });
  expect((await client.workflow.getHandle(strict).describe()).status.name).toBe('FAILED');
  // The errors of a job that failed on its error rate can still be read.
  expect(lines((await text(`/v1/batch-predictions/${strict}/errors`)).body)).toHaveLength(3);
  expectProblem(await call(api, 'GET', `/v1/batch-predictions/${strict}/output`, { token: api.tokens.viewer }), 409);
});

test('a missing column fails at once, naming it, before any chunk is written', async () => {
  writePenguinsCsv(root, 'noisland.csv', 1, { drop: 'island' });
  const batchId = await start({ input: 'noisland.csv' });
  const doc = await ended(batchId);
  expect(doc.status).toBe('failed');
  expect(doc.error?.message).toMatch(/the input has no column 'island', which model 'penguins-batch' v1 needs/);
  expect(doc.error?.type).toBe('BatchInputError');
  const chunks = await api.store.db.collection('artifacts').countDocuments({ 'labels.batchId': batchId });
  expect(chunks).toBe(0);
  // Tried once: a missing column is not retried.
  const history = await client.workflow.getHandle(batchId).fetchHistory();
  const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
  const attempts = started.map((e) => e.activityTaskStartedEventAttributes!.attempt);
  expect(attempts.every((a) => a === 1)).toBe(true);
});

test('auth: viewers cannot start; only the starter or an admin may cancel; bad input is a 400 or 422', async () => {
  writePenguinsCsv(root, 'auth.csv', 20); // 69 chunks one at a time: still running when cancelled
  const refused = async (token: string | null, body: Record<string, unknown>, status: number) =>
    expectProblem(await call(api, 'POST', '/v1/batch-predictions', { token, body }), status);
  const ok = { model: MODEL, input: 'auth.csv' };
  await refused(api.tokens.viewer, ok, 403);
  await refused(null, ok, 401);
  await refused(api.tokens.scientist, { ...ok, input: '../etc/passwd.csv' }, 400);
  await refused(api.tokens.scientist, { ...ok, input: 'auth.jsonl' }, 400);
  await refused(api.tokens.scientist, { ...ok, $where: 1 }, 400);
  await refused(api.tokens.scientist, { ...ok, maxErrorRate: 2 }, 400);
  await refused(api.tokens.scientist, { ...ok, version: 1, alias: 'production' }, 400);
  await refused(api.tokens.scientist, { ...ok, model: 'nope' }, 422);

  const doc = (await call(api, 'GET', '/openapi.json', { token: api.tokens.viewer })).body;
  const post = doc.paths['/v1/batch-predictions'].post;
  expect(post['x-roles']).toEqual(['scientist', 'admin']);
  expect(post.requestBody.content['application/json'].schema.required).toEqual(['model', 'input']);
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      '/v1/batch-predictions/{id}',
      '/v1/batch-predictions/{id}/output',
      '/v1/batch-predictions/{id}/errors',
      '/v1/batch-predictions/{id}/cancel',
    ])
  );

  const key = { 'Idempotency-Key': `k-${randomUUID()}` };
  const batchId = await start({ input: 'auth.csv', chunkRows: 100, parallelism: 1 }, api.tokens.admin);
  const again = await call(api, 'POST', '/v1/batch-predictions', {
    token: api.tokens.scientist,
    headers: key,
    body: { model: MODEL, input: 'auth.csv' },
  });
  const replay = await call(api, 'POST', '/v1/batch-predictions', {
    token: api.tokens.scientist,
    headers: key,
    body: { model: MODEL, input: 'auth.csv' },
  });
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect((replay.body as { batchId: string }).batchId).toBe((again.body as { batchId: string }).batchId);

  expectProblem(
    await call(api, 'POST', `/v1/batch-predictions/${batchId}/cancel`, { token: api.tokens.scientist }),
    403
  );
  expectProblem(await call(api, 'POST', `/v1/batch-predictions/${batchId}/cancel`, { token: api.tokens.viewer }), 403);
  const denied = await api.store.db
    .collection('audit')
    .findOne({ action: 'batch.cancel', outcome: 'denied', 'object.id': batchId });
  expect(denied).not.toBeNull();
  const cancelled = await call(api, 'POST', `/v1/batch-predictions/${batchId}/cancel`, { token: api.tokens.admin });
  expect(cancelled.status).toBe(202);
  expect((await ended(batchId)).status).toBe('cancelled');
  await client.workflow
    .getHandle(batchId)
    .result()
    .catch(() => undefined); // the document is written just before the workflow closes
  expect((await client.workflow.getHandle(batchId).describe()).status.name).toBe('CANCELLED');
  expectProblem(await call(api, 'POST', `/v1/batch-predictions/${batchId}/cancel`, { token: api.tokens.admin }), 409);
  const started = await api.store.db.collection('audit').findOne({ action: 'batch.start', 'object.id': batchId });
  expect(started).not.toBeNull();
  await ended((again.body as { batchId: string }).batchId);
});

test('the CLI: batch start --watch draws progress with rows/s; show; download -o; download --errors', async () => {
  const file = writePenguinsCsv(root, 'cli.csv', 2, {
    mutate: (c, row) => (row === 9 ? c.map((v, i) => (i === 6 ? 'heavy' : v)) : c),
  });
  let stdout = '';
  let stderr = '';
  const mlops = (args: string[]) =>
    runCli(args, {
      env: { MLOPS_API_URL: api.url, MLOPS_TOKEN: api.tokens.scientist, MLOPS_CONFIG: path.join(root, 'none.json') },
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
    });
  const code = await mlops(['batch', 'start', '--model', MODEL, '--input', 'cli.csv', '--id-column', 'pid', '--watch']);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const batchId = /started (batch-\S+)/.exec(stdout)![1];
  expect(stdout).toMatch(/\[#{24}\] 100% 688\/688 rows \d[\d,]* rows\/s \(1 bad\)/);
  expect(stdout).toContain(`${batchId} succeeded`);
  stdout = '';
  expect(await mlops(['batch', 'show', batchId])).toBe(0);
  expect(stdout).toMatch(/model: +penguins-batch v1 \(alias production\)/);
  const out = path.join(os.tmpdir(), `${batchId}.csv`);
  expect(await mlops(['batch', 'download', batchId, '-o', out])).toBe(0);
  expect(lines(readFileSync(out, 'utf8')).slice(1)).toEqual(await expectedCsv(onnx, file, new Set([9])));
  stdout = '';
  expect(await mlops(['batch', 'download', batchId, '--errors'])).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({ row: 9, line: 10 });
  expect(await mlops(['batch', 'cancel', batchId])).toBe(1); // already ended: 409
});

test('replay: the recorded histories of these jobs replay on the current workflow code', async () => {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
  expect(replayIds).toHaveLength(5);
  for (const id of replayIds) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    await Worker.runReplayHistory(
      {
        workflowBundle: workflowBundle(),
        dataConverter: await createDataConverter(api.cfg),
        logger: quiet as never,
      } as never,
      history,
      id
    );
  }
});
