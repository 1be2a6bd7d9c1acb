/** @jest-environment ./test/unit/ml/ort-environment.js */
// The inference server's auth matrix: no anonymous inference, `infer` for model routes and `read`
// for /metrics, and a predictor token minted through POST /v1/tokens that infers but can do
// nothing on the API.
import { randomUUID } from 'node:crypto';
import { ROLES, can } from '../../../lib/auth/roles';
import { call, startTestApi, type TestApi } from '../api/helpers';
import {
  get,
  infer,
  penguinsRequest,
  penguinsSplit,
  registerPenguins,
  spawnInference,
  type InferenceChild,
} from './helpers';

const MODEL = `penguins-${randomUUID().slice(0, 6)}`;
const data = penguinsSplit();
let api: TestApi;
let server: InferenceChild;

beforeAll(async () => {
  api = await startTestApi();
  await registerPenguins(api.store, MODEL, data);
  server = await spawnInference(api.cfg);
});
afterAll(async () => {
  await server?.child.stop(5_000);
  await api?.close();
});

const body = () => penguinsRequest(data.test, 0, 2);

it('refuses requests without a valid token with 401', async () => {
  for (const token of [null, 'mlops_' + 'x'.repeat(43)]) {
    const r = await infer(server.url, MODEL, token, body());
    expect({ status: r.status, body: r.body }).toEqual({
      status: 401,
      body: { error: expect.stringMatching(/token/) },
    });
    expect(r.headers.get('x-model-version')).toBeNull();
    expect((await get(server.url, `/v2/models/${MODEL}`, token)).status).toBe(401);
    expect((await get(server.url, '/metrics', token)).status).toBe(401);
  }
  const malformed = await fetch(`${server.url}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { authorization: 'Basic abc' },
    body: JSON.stringify(body()),
  });
  expect(malformed.status).toBe(401);
});

it('grants model routes to roles with infer and /metrics to roles with read', async () => {
  const rows: string[] = [];
  for (const role of ROLES) {
    const token = api.tokens[role];
    const inferred = await infer(server.url, MODEL, token, body());
    const meta = await get(server.url, `/v2/models/${MODEL}`, token);
    const ready = await get(server.url, `/v2/models/${MODEL}/ready`, token);
    const metrics = await get(server.url, '/metrics', token);
    const want = can(role, 'infer') ? 200 : 403;
    expect({ role, statuses: [inferred.status, meta.status, ready.status] }).toEqual({
      role,
      statuses: [want, want, want],
    });
    if (want === 403)
      expect(inferred.body.error).toMatch(/role viewer may not do this \(needs infer, held by: predictor/);
    expect({ role, metrics: metrics.status }).toEqual({ role, metrics: can(role, 'read') ? 200 : 403 });
    rows.push(`${role}: infer ${inferred.status}, metrics ${metrics.status}`);
  }
  expect(rows).toEqual([
    'predictor: infer 200, metrics 403',
    'viewer: infer 403, metrics 200',
    'scientist: infer 200, metrics 200',
    'approver: infer 200, metrics 200',
    'admin: infer 200, metrics 200',
  ]);
});

it('mints a predictor token over the API that infers and can do nothing on /v1', async () => {
  const created = await call(api, 'POST', '/v1/tokens', {
    token: api.tokens.admin,
    body: { name: 'shop frontend', subject: 'shop', role: 'predictor' },
  });
  expect(created.status).toBe(201);
  expect(created.body.role).toBe('predictor');
  const token: string = created.body.token;
  expect((await infer(server.url, MODEL, token, body())).status).toBe(200);
  for (const [method, path] of [
    ['GET', '/v1/runs'],
    ['GET', '/v1/models'],
    ['GET', '/v1/whoami'],
    ['POST', '/v1/runs'],
    ['GET', '/metrics'],
  ] as const) {
    const r = await call(api, method, path, { token, body: method === 'POST' ? { model: 'x' } : undefined });
    expect({ path, status: r.status }).toEqual({ path, status: 403 });
  }
});
