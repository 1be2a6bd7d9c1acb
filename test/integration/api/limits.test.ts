// Request limits and injection: oversized and deep bodies, Mongo operators in the query
// string and the JSON body, unknown fields, invalid ids, and no stack traces anywhere.
import { createRun } from '../../../lib/store/runs';
import { call, expectProblem, MINIMAL_SPEC, startTestApi, type TestApi } from './helpers';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
  await createRun(api.store, { runId: 'run-a', model: 'penguins', spec: MINIMAL_SPEC, createdBy: 'sam' });
  await createRun(api.store, { runId: 'run-b', model: 'iris', spec: MINIMAL_SPEC, createdBy: 'sam' });
});
afterAll(async () => {
  await api?.close();
});

describe('body limits', () => {
  it('answers 413 for a body over MLOPS_MAX_BODY_BYTES', async () => {
    const big = JSON.stringify({ ...MINIMAL_SPEC, description: 'x'.repeat(api.cfg.MLOPS_MAX_BODY_BYTES + 10) });
    const r = await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, rawBody: big });
    expectProblem(r, 413);
    expect(r.body.detail).toMatch(/limit of \d+ bytes/);
  });

  it('answers 413 for nesting deeper than the cap', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { a: deep };
    const r = await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, body: { ...MINIMAL_SPEC, deep } });
    expectProblem(r, 413);
    expect(r.body.detail).toMatch(/deeper than/);
  });

  it('answers 413 for too many array items', async () => {
    const r = await call(api, 'POST', '/v1/runs', {
      token: api.tokens.scientist,
      body: { ...MINIMAL_SPEC, features: { drop: Array.from({ length: 20_000 }, (_, i) => `c${i}`) } },
    });
    expectProblem(r, 413);
  });

  it('answers 400 for malformed JSON and 415 for a non-JSON body', async () => {
    expectProblem(await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, rawBody: '{"model": ' }), 400);
    const r = await call(api, 'POST', '/v1/runs', {
      token: api.tokens.scientist,
      rawBody: 'model=penguins',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(r, 415);
  });

  it('rejects unknown fields with their path', async () => {
    const r = await call(api, 'POST', '/v1/runs', {
      token: api.tokens.scientist,
      body: { ...MINIMAL_SPEC, trainer: { epochs: 3, epocs: 4 } },
    });
    expectProblem(r, 400);
    expect(r.body.errors[0]).toMatchObject({ path: 'body.trainer', message: expect.stringMatching(/epocs/) });
  });
});

describe('operator injection', () => {
  it('query: bracket syntax does not become an operator', async () => {
    for (const qs of ['status[$gt]=', 'model[$ne]=x', 'model[$regex]=.*', 'status=running&status[$ne]=x']) {
      const r = await call(api, 'GET', `/v1/runs?${qs}`, { token: api.tokens.viewer });
      expectProblem(r, 400);
    }
  });

  it('query: an operator-looking value is a literal that matches nothing', async () => {
    const r = await call(api, 'GET', `/v1/runs?model=${encodeURIComponent('{"$gt":""}')}`, {
      token: api.tokens.viewer,
    });
    expectProblem(r, 400); // not a valid model name
    const ok = await call(api, 'GET', '/v1/runs?model=penguins', { token: api.tokens.viewer });
    expect(ok.status).toBe(200);
    expect(ok.body.items.map((x: { runId: string }) => x.runId)).toEqual(['run-a']);
  });

  it('body: $-keys are refused at any depth', async () => {
    const attempts = [
      { ...MINIMAL_SPEC, model: { $gt: '' } },
      { ...MINIMAL_SPEC, features: { types: { $where: 'numeric' } } },
      { ...MINIMAL_SPEC, __proto__x: 1, trainer: { __proto__: { admin: true } } },
    ];
    for (const body of attempts) {
      const r = await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, body });
      expectProblem(r, 400);
    }
    const approval = await call(api, 'POST', '/v1/runs/run-a/approval', {
      token: api.tokens.approver,
      body: { decision: { $ne: 'reject' } },
    });
    expectProblem(approval, 400);
    const token = await call(api, 'POST', '/v1/tokens', {
      token: api.tokens.admin,
      body: { name: 'x', subject: { $gt: '' }, role: 'admin' },
    });
    expectProblem(token, 400);
  });

  it('path ids are validated', async () => {
    for (const p of [
      '/v1/runs/%24gt',
      '/v1/runs/..%2F..%2Fetc',
      '/v1/runs/a%00b',
      '/v1/models/..%2fx',
      '/v1/models/p/versions/0',
      '/v1/models/p/versions/1e3',
    ]) {
      const r = await call(api, 'GET', p, { token: api.tokens.viewer });
      expectProblem(r, 400);
    }
  });

  it('bad cursors, limits and dates are 400s that name the parameter', async () => {
    const cases: [string, string][] = [
      ['/v1/runs?limit=101', 'query.limit'],
      ['/v1/runs?limit=0', 'query.limit'],
      ['/v1/runs?cursor=abc', 'query.cursor'],
      ['/v1/runs?from=yesterday', 'query.from'],
      ['/v1/runs?status=done', 'query.status'],
      ['/v1/runs?colour=red', 'query'],
    ];
    for (const [p, field] of cases) {
      const r = await call(api, 'GET', p, { token: api.tokens.viewer });
      expectProblem(r, 400);
      expect(r.body.errors?.[0]?.path).toBe(field);
    }
  });
});

describe('errors', () => {
  it('unknown routes are problem+json 404s; other methods are 405 with Allow', async () => {
    expectProblem(await call(api, 'GET', '/v1/nope', { token: api.tokens.viewer }), 404);
    const r = await call(api, 'PATCH', '/v1/runs', { token: api.tokens.viewer });
    expectProblem(r, 405);
    expect(r.headers.get('allow')).toBe('POST, GET');
  });
});
