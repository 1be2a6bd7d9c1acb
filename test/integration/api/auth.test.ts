// Token lifecycle, rate limiting of failed token attempts, health and readiness (the
// authorisation matrix is authorisation-table.test.ts).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ensureAdminToken } from '../../../lib/auth/admin-token';
import { createApp } from '../../../api/app';
import { silentLogger } from '../../../lib/telemetry/logger';
import { gatewayFromFactory } from '../../../api/temporal';
import { MongoClient } from 'mongodb';
import { apiTestConfig, call, expectProblem, startTestApi, type TestApi } from './helpers';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

describe('tokens', () => {
  it('creates a token shown once, stores only its hash, and revokes it', async () => {
    const created = await call(api, 'POST', '/v1/tokens', {
      token: api.tokens.admin,
      body: { name: 'ci', subject: 'ci-bot', role: 'viewer' },
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^mlops_/);
    expect(created.headers.get('location')).toBe(`/v1/tokens/${created.body.id}`);
    const stored = await api.store.db.collection('api_tokens').findOne({ _id: created.body.id });
    expect(JSON.stringify(stored)).not.toContain(created.body.token);

    const shown = await call(api, 'GET', `/v1/tokens/${created.body.id}`, { token: api.tokens.admin });
    expect(shown.status).toBe(200);
    expect(shown.body.token).toBeUndefined();
    expect(shown.body.hash).toBeUndefined();

    expect((await call(api, 'GET', '/v1/whoami', { token: created.body.token })).body).toMatchObject({
      subject: 'ci-bot',
      role: 'viewer',
    });
    expect((await call(api, 'DELETE', `/v1/tokens/${created.body.id}`, { token: api.tokens.admin })).status).toBe(204);
    expectProblem(await call(api, 'GET', '/v1/whoami', { token: created.body.token }), 401);

    const audit = await call(api, 'GET', `/v1/audit?objectType=token&objectId=${created.body.id}`, {
      token: api.tokens.admin,
    });
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['token.revoke', 'token.create']);
    expect(JSON.stringify(audit.body)).not.toContain(created.body.token);
    expect((await call(api, 'GET', '/v1/audit/verify', { token: api.tokens.admin })).body).toMatchObject({ ok: true });
  });

  it('reports the first broken link when an audit entry is edited in MongoDB', async () => {
    for (let i = 0; i < 3; i++) {
      await call(api, 'POST', '/v1/tokens', { token: api.tokens.admin, body: { name: `chain-${i}`, role: 'viewer' } });
    }
    const ok = await call(api, 'GET', '/v1/audit/verify', { token: api.tokens.admin });
    expect(ok.body.ok).toBe(true);
    const target = ok.body.checked - 1;
    await api.store.db.collection('audit').updateOne({ _id: target as never }, { $set: { 'details.role': 'admin' } });
    const broken = await call(api, 'GET', '/v1/audit/verify', { token: api.tokens.admin });
    expect(broken.body).toEqual({
      ok: false,
      checked: target - 1,
      broken: { seq: target, reason: expect.stringMatching(/edited/) },
    });
    // Put it back so later checks in this file see an intact chain.
    await api.store.db.collection('audit').updateOne({ _id: target as never }, { $set: { 'details.role': 'viewer' } });
    expect((await call(api, 'GET', '/v1/audit/verify', { token: api.tokens.admin })).body.ok).toBe(true);
  });

  it('refuses unknown roles and fields in token bodies', async () => {
    const r = await call(api, 'POST', '/v1/tokens', {
      token: api.tokens.admin,
      body: { name: 'x', subject: 'x', role: 'root' },
    });
    expectProblem(r, 400);
    expect(r.body.errors[0].path).toBe('body.role');
    const extra = await call(api, 'POST', '/v1/tokens', {
      token: api.tokens.admin,
      body: { name: 'x', subject: 'x', role: 'viewer', hash: 'abc' },
    });
    expectProblem(extra, 400);
    expect(extra.body.detail).toMatch(/unknown field/);
  });

  it('never logs a token', async () => {
    await call(api, 'GET', '/v1/whoami', { token: api.tokens.viewer });
    await call(api, 'GET', '/v1/whoami', { token: 'mlops_' + 'x'.repeat(43) });
    const logs = api.logLines.join('\n');
    for (const t of Object.values(api.tokens)) expect(logs).not.toContain(t);
  });
});

describe('failed token attempts', () => {
  it('answers 429 with Retry-After after too many failures from one address', async () => {
    const limited = await startTestApi({ limits: { authFailures: 3, authFailureWindowMs: 60_000 } });
    try {
      for (let i = 0; i < 3; i++) {
        expectProblem(await call(limited, 'GET', '/v1/runs', { token: `mlops_${'a'.repeat(42)}${i}` }), 401);
      }
      const blocked = await call(limited, 'GET', '/v1/runs', { token: limited.tokens.viewer });
      expectProblem(blocked, 429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      // Health stays open.
      expect((await call(limited, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('health and readiness', () => {
  it('/healthz and /readyz answer without a token when both servers are up', async () => {
    expect((await call(api, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await call(api, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { temporal: 'ok', mongodb: 'ok' } });
  });

  it('/readyz answers 503 naming the unreachable server', async () => {
    const cfg = apiTestConfig();
    // MongoDB reachable, Temporal on a closed port.
    const client = new MongoClient(cfg.MONGODB_URI);
    const badMongo = new MongoClient('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 500 });
    const store = { client, db: client.db(cfg.MONGODB_DB), close: () => client.close() };
    const deadStore = { client: badMongo, db: badMongo.db('x'), close: () => badMongo.close() };
    const deadTemporal = gatewayFromFactory(() => Promise.reject(new Error('connect ECONNREFUSED')));
    const upTemporal = { ...api.app.ctx.temporal, close: async () => undefined };
    const cases = [
      {
        store,
        temporal: deadTemporal,
        detail: /^Temporal is unreachable/,
        checks: { temporal: 'unreachable', mongodb: 'ok' },
      },
      {
        store: deadStore,
        temporal: upTemporal,
        detail: /^MongoDB is unreachable/,
        checks: { temporal: 'ok', mongodb: 'unreachable' },
      },
      {
        store: deadStore,
        temporal: deadTemporal,
        detail: /Temporal and MongoDB are unreachable/,
        checks: { temporal: 'unreachable', mongodb: 'unreachable' },
      },
    ];
    try {
      for (const c of cases) {
        const app = createApp({ cfg, store: c.store, temporal: c.temporal, log: silentLogger });
        const server = await new Promise<import('node:http').Server>((resolve) => {
          const s = app.listen(0, '127.0.0.1', () => resolve(s));
        });
        const port = (server.address() as { port: number }).port;
        try {
          const r = await call({ url: `http://127.0.0.1:${port}` }, 'GET', '/readyz');
          expectProblem(r, 503);
          expect(r.body.detail).toMatch(c.detail);
          expect(r.body.checks).toEqual(c.checks);
          expect(r.text).not.toContain('127.0.0.1:1');
        } finally {
          await new Promise((resolve) => server.close(resolve));
          server.closeAllConnections();
        }
      }
    } finally {
      await client.close();
      await badMongo.close();
    }
  });
});

describe('admin token bootstrap', () => {
  it('generates a token once into <dataDir>/admin-token with mode 0600 and reuses it', async () => {
    const cfg = apiTestConfig({ MLOPS_ADMIN_TOKEN: '' });
    const first = await ensureAdminToken(cfg);
    expect(first.source).toBe('generated');
    expect(first.path).toBe(path.join(cfg.dataDir, 'admin-token'));
    expect((await fs.stat(first.path!)).mode & 0o777).toBe(0o600);
    const again = await ensureAdminToken(cfg);
    expect(again).toMatchObject({ token: first.token, source: 'file' });
    const fromEnv = await ensureAdminToken({ ...cfg, MLOPS_ADMIN_TOKEN: 'x'.repeat(30) });
    expect(fromEnv).toEqual({ token: 'x'.repeat(30), source: 'env' });
  });
});
