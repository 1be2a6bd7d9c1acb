/** @jest-environment ./test/unit/ml/ort-environment.js */
// Rollouts through the API alone: only approved versions start; a second rollout of the model is
// refused naming the running one; the requester may pause but not promote (four eyes, 403);
// another approver promotes; the record shows every decision with who and why.
import { updateModelVersion } from '../../../lib/store/models';
import { startTestWorkers, type TestWorkers } from '../harness/env';
import { waitFor } from '../harness/wait';
import { call, expectProblem, startTestApi, type TestApi } from '../api/helpers';
import { fastDeploy, feedStats, registeredModel, simulatedServer } from './helpers';

let api: TestApi;
let workers: TestWorkers;
let servers: { stop(): Promise<void> };
beforeAll(async () => {
  api = await startTestApi();
  workers = await startTestWorkers(api.cfg, api.store, ['control']);
  servers = simulatedServer(api.store);
});
afterAll(async () => {
  await servers?.stop();
  await workers?.shutdown();
  await api?.close();
});

it('starts, refuses a second, four-eyes the overrides and records who decided', async () => {
  const model = await registeredModel(api.store);
  const good = { requests: 10, latencyMs: 5, predictions: { a: 6, b: 4 } };
  const feed = feedStats(api.store, model, { 1: good, 2: good });
  try {
    const body = { model, version: 2, deploy: fastDeploy({ bake: '1m' }) };
    const unapproved = await call(api, 'POST', '/v1/deployments', { token: api.tokens.approver, body });
    expectProblem(unapproved, 409);
    expect(unapproved.body.detail).toMatch(/is candidate, not approved/);
    await updateModelVersion(api.store, model, 2, { status: 'approved' });

    const started = await call(api, 'POST', '/v1/deployments', { token: api.tokens.approver, body });
    expect(started.status).toBe(202);
    const id: string = started.body.id;
    const second = await call(api, 'POST', '/v1/deployments', { token: api.tokens.approver2, body });
    expectProblem(second, 409);
    expect(second.body.detail).toContain(`deployment ${id}`);

    const own = await call(api, 'POST', `/v1/deployments/${id}/promote`, {
      token: api.tokens.approver,
      body: { reason: 'mine' },
    });
    expectProblem(own, 403);
    expect(own.body.detail).toMatch(/Four eyes/);
    const paused = await call(api, 'POST', `/v1/deployments/${id}/pause`, {
      token: api.tokens.approver,
      body: { reason: 'checking' },
    });
    expect(paused.status).toBe(202);
    await waitFor(
      'paused',
      async () =>
        (await call(api, 'GET', `/v1/deployments/${id}`, { token: api.tokens.viewer })).body.state === 'paused'
    );
    const promoted = await call(api, 'POST', `/v1/deployments/${id}/promote`, {
      token: api.tokens.approver2,
      body: { reason: 'looks good' },
    });
    expect(promoted.status).toBe(202);
    const done = await waitFor('succeeded', async () => {
      const d = (await call(api, 'GET', `/v1/deployments/${id}`, { token: api.tokens.viewer })).body;
      return d.state === 'succeeded' ? d : undefined;
    });
    expect(done).toMatchObject({ model, version: 2, stable: 1, requestedBy: api.subjects.approver });
    expect(done.decisions.map((d: any) => [d.kind, d.outcome, d.by])).toEqual(
      expect.arrayContaining([
        ['override', 'pause', api.subjects.approver],
        ['promote', 'succeeded', api.subjects.approver2],
      ])
    );
    const list = await call(api, 'GET', `/v1/deployments?model=${model}`, { token: api.tokens.viewer });
    expect(list.body.items.map((d: any) => d.id)).toEqual([id]);
  } finally {
    await feed.stop();
  }
});
