// Start -> approval -> promotion through the HTTP API only (real Temporal, real MongoDB
// wire server, real workers): a scientist starts a run, its own approval is refused (four
// eyes), an approver approves, the run is promoted to production, and the served artifact
// downloads with a matching digest.
import { createHash } from 'node:crypto';
import { StopWaiting, waitFor } from '../harness/wait';
import { pipelineEnv, type PipelineEnv } from '../pipeline/helpers';
import { call, expectProblem, startTestApi, type TestApi } from './helpers';

let env: PipelineEnv;
let api: TestApi;

beforeAll(async () => {
  env = await pipelineEnv();
  api = await startTestApi({ cfg: { ...env.cfg, MLOPS_ADMIN_TOKEN: `admin-${Date.now()}-e2e-token-xxxxxxxx` } });
}, 180_000);
afterAll(async () => {
  await api?.close();
  await env?.close();
});

async function runState(runId: string, want: string[]): Promise<any> {
  return waitFor(
    `run ${runId} in ${want.join('|')}`,
    async () => {
      const r = await call(api, 'GET', `/v1/runs/${runId}`, { token: api.tokens.viewer });
      if (want.includes(r.body.status)) return r.body;
      // An ended run will not reach the wanted state: report it now, not at the deadline.
      if (['failed', 'failed_gate', 'rejected', 'expired', 'cancelled'].includes(r.body.status)) {
        throw new StopWaiting(`run ended ${r.body.status}: ${JSON.stringify(r.body.error ?? r.body.live)}`);
      }
      return undefined;
    },
    150_000
  );
}

it('starts, waits for approval, refuses the starter, approves and promotes through the API', async () => {
  const model = `penguins-api-${Date.now().toString(36)}`;
  const spec = {
    model,
    dataset: { name: 'penguins' },
    target: 'species',
    trainer: { epochs: 20, batchSize: 32, learningRate: 0.02, hidden: [16], patience: 0 },
    approval: { timeout: '10m' },
  };
  const started = await call(api, 'POST', '/v1/runs', {
    token: api.tokens.scientist,
    body: spec,
    headers: { 'Idempotency-Key': `e2e-${model}` },
  });
  expect(started.status).toBe(202);
  const runId: string = started.body.runId;

  const waiting = await runState(runId, ['awaiting_approval']);
  expect(waiting).toMatchObject({ stage: 'approval', model: { name: model, version: 1 }, createdBy: 'sam' });
  expect(waiting.live.pendingApproval).toMatchObject({ model, version: 1 });

  // The run's events and metrics are readable while it waits.
  const events = await call(api, 'GET', `/v1/runs/${runId}/events`, { token: api.tokens.viewer });
  expect(events.status).toBe(200);
  expect(events.body.items.map((e: { step: string }) => e.step)).toEqual(expect.arrayContaining(['ingest', 'train']));
  const metrics = await call(api, 'GET', `/v1/runs/${runId}/metrics`, { token: api.tokens.viewer });
  expect(metrics.body.items.length).toBeGreaterThan(0);

  const approved = await call(api, 'POST', `/v1/runs/${runId}/approval`, {
    token: api.tokens.approver,
    body: { decision: 'approve', comment: 'looks good' },
  });
  expect(approved.status).toBe(202);
  expect(approved.body).toEqual({ runId, decision: 'approve', approver: 'alice' });

  const done = await runState(runId, ['succeeded']);
  expect(done).toMatchObject({ status: 'succeeded', stage: 'done', model: { name: model, version: 1 } });

  const m = await call(api, 'GET', `/v1/models/${model}`, { token: api.tokens.viewer });
  expect(m.body.aliases.production).toMatchObject({ version: 1, runId });
  const v = await call(api, 'GET', `/v1/models/${model}/versions/1`, { token: api.tokens.viewer });
  expect(v.body).toMatchObject({ status: 'promoted', runId, approval: { decision: 'approve', approver: 'alice' } });

  const res = await fetch(`${api.url}/v1/models/${model}/versions/1/artifact`, {
    headers: { authorization: `Bearer ${api.tokens.viewer}` },
  });
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const sha = createHash('sha256').update(bytes).digest('hex');
  expect(res.headers.get('x-artifact-sha256')).toBe(sha);
  expect(sha).toBe(v.body.artifacts[v.body.artifacts.serving ? 'serving' : 'onnx'].sha256);

  const audit = await call(api, 'GET', `/v1/audit?objectType=run&objectId=${runId}`, { token: api.tokens.admin });
  expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['run.approve', 'run.start']);
}, 300_000);

it('refuses the starter (four eyes) and lets another approver reject', async () => {
  const model = `penguins-rej-${Date.now().toString(36)}`;
  const started = await call(api, 'POST', '/v1/runs', {
    token: api.tokens.scientist,
    body: {
      model,
      dataset: { name: 'penguins' },
      target: 'species',
      trainer: { epochs: 5, hidden: [8], patience: 0 },
      approval: { timeout: '10m' },
    },
  });
  const runId: string = started.body.runId;
  await runState(runId, ['awaiting_approval']);
  // The starter's subject, through a token that has approver rights: the admin creates one for sam.
  const samApprover = await call(api, 'POST', '/v1/tokens', {
    token: api.tokens.admin,
    body: { name: 'sam approves', subject: 'sam', role: 'approver' },
  });
  const refused = await call(api, 'POST', `/v1/runs/${runId}/approval`, {
    token: samApprover.body.token,
    body: { decision: 'approve' },
  });
  expectProblem(refused, 403);
  expect(refused.body.reason).toBe('four-eyes');

  const rejected = await call(api, 'POST', `/v1/runs/${runId}/approval`, {
    token: api.tokens.approver,
    body: { decision: 'reject', comment: 'not today' },
  });
  expect(rejected.status).toBe(202);
  const ended = await waitFor(
    'rejected',
    async () => {
      const r = await call(api, 'GET', `/v1/runs/${runId}`, { token: api.tokens.viewer });
      return r.body.status === 'rejected' ? r.body : undefined;
    },
    60_000
  );
  expect(ended).toMatchObject({ status: 'rejected', model: { name: model, version: 1 } });
  const v = await call(api, 'GET', `/v1/models/${model}/versions/1`, { token: api.tokens.viewer });
  expect(v.body).toMatchObject({ status: 'rejected', approval: { decision: 'reject', approver: 'alice' } });
  const m = await call(api, 'GET', `/v1/models/${model}`, { token: api.tokens.viewer });
  expect(m.body.aliases.production).toBeUndefined();
}, 300_000);
