// Issue 7's attack checklist (from MLflow CVEs and the OWASP API Top 10 2023), each item
// answered against the real API, Temporal and MongoDB-wire servers. docs/security.md maps every
// item to its defence and to the tests here (and the unit tests in test/unit/security).
import { WorkflowFailedError } from '@temporalio/client';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createToken } from '../../../lib/store/tokens';
import { createClient } from '../../../lib/temporal/connection';
import { TRAVERSALS } from '../../unit/security/attack-inputs';
import { FIXTURE_TRAINER, startFixtureTraining } from '../fleets/helpers';
import { startTestWorkers } from '../harness/env';
import { apiTestConfig, call, expectProblem, MINIMAL_SPEC, seedRun, startTestApi, type TestApi } from './helpers';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

/** A request exactly as written: fetch would normalise `..` segments and encodings away. */
function rawGet(url: string, rawPath: string, token: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: hostname, port, method: 'GET', path: rawPath, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      }
    );
    req.on('error', reject);
    req.end();
  });
}

async function runsOf(model: string): Promise<number> {
  return api.store.db.collection('runs').countDocuments({ model });
}

describe('1. path traversal', () => {
  it.each(TRAVERSALS)(
    'POST /v1/runs refuses dataset path %j at the edge with a 400 naming the field',
    async (p, why) => {
      const model = `trav-${randomUUID().slice(0, 8)}`;
      const r = await call(api, 'POST', '/v1/runs', {
        token: api.tokens.scientist,
        body: { ...MINIMAL_SPEC, model, dataset: { path: p } },
      });
      expectProblem(r, 400);
      expect(r.body.errors[0]).toEqual({ path: 'body.dataset.path', message: expect.stringMatching(why) });
      expect(r.body.detail).toMatch(/datasets root/);
      expect(await runsOf(model)).toBe(0); // nothing was started
    }
  );

  it('checks the dataset only after authentication: an anonymous caller gets 401, not a hint', async () => {
    const r = await call(api, 'POST', '/v1/runs', {
      token: null,
      body: { ...MINIMAL_SPEC, dataset: { path: '../../etc/passwd' } },
    });
    expectProblem(r, 401);
  });

  it('refuses traversal in run ids, model names, versions and artifact roles, however encoded', async () => {
    const attempts = [
      '/v1/runs/..%2F..%2Fetc%2Fpasswd',
      '/v1/runs/%2e%2e%2f%2e%2e%2fetc%2fpasswd/events',
      '/v1/runs/%252e%252e%252fetc%252fpasswd',
      '/v1/runs/..%5C..%5Cetc%5Cpasswd',
      '/v1/runs/%2F%2Fproc%2Fself%2Froot',
      '/v1/runs/a%00b/metrics',
      '/v1/models/..%2F..%2Fetc/versions/1/artifact',
      '/v1/models/%252e%252e%252f/versions/1',
      '/v1/models/penguins/versions/..%2F1/artifact',
      '/v1/models/penguins/versions/1/artifact?role=..%2F..%2Fetc%2Fpasswd',
      '/v1/models/penguins/versions/1/artifact?role=%2Fproc%2Fself%2Fenviron',
    ];
    for (const p of attempts) {
      const r = await call(api, 'GET', p, { token: api.tokens.viewer });
      expect({ p, status: r.status }).toEqual({ p, status: 400 });
      expectProblem(r, 400);
    }
    // Unencoded dot segments and doubled slashes never reach a handler, and no file is served.
    for (const p of ['/v1/runs/../../etc/passwd', '/v1/models/../../../etc/passwd', '//proc/self/root/etc/passwd']) {
      const r = await rawGet(api.url, p, api.tokens.viewer);
      expect({ p, status: r.status }).toEqual({ p, status: 404 });
      expect(r.text).not.toMatch(/root:|PATH=/);
    }
  });
});

describe('2. object-level authorisation (no teams exist: ownership is per subject)', () => {
  it("a scientist cannot cancel another user's run; the owner (any of their tokens) can", async () => {
    const sara = (
      await createToken(api.store.db, { name: 'sara', subject: 'sara', role: 'scientist', createdBy: 'test' })
    ).token;
    const started = await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, body: MINIMAL_SPEC });
    expect(started.status).toBe(202);
    const runId = started.body.runId as string;
    const client = await createClient(api.cfg);
    try {
      const other = await call(api, 'POST', `/v1/runs/${runId}/cancel`, { token: sara, body: { reason: 'mine now' } });
      expectProblem(other, 403);
      expect(other.body.detail).toMatch(/started by someone else; only they or an admin may cancel it/);
      const audit = await call(api, 'GET', `/v1/audit?action=run.cancel&objectId=${runId}`, {
        token: api.tokens.admin,
      });
      expect(audit.body.items[0]).toMatchObject({ outcome: 'denied', actor: { subject: 'sara' } });
      // Nothing reached Temporal: no cancel request in the workflow's history.
      const history = await client.workflow.getHandle(runId).fetchHistory();
      expect(history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(false);

      // Other roles: an approver may not cancel at all, a scientist may not approve at all.
      expectProblem(await call(api, 'POST', `/v1/runs/${runId}/cancel`, { token: api.tokens.approver }), 403);
      const approve = await call(api, 'POST', `/v1/runs/${runId}/approval`, {
        token: sara,
        body: { decision: 'approve' },
      });
      expectProblem(approve, 403);
      expect(approve.body.detail).toMatch(/Role scientist may not/);

      const own = await call(api, 'POST', `/v1/runs/${runId}/cancel`, { token: api.tokens.scientist2 });
      expect(own.status).toBe(202);
      const after = await client.workflow.getHandle(runId).fetchHistory();
      expect(after.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
    } finally {
      await client.workflow
        .getHandle(runId)
        .terminate('test cleanup')
        .catch(() => undefined);
      await client.connection.close();
    }
  });

  it('the approver of a run is never its starter (four eyes), whatever token they use', async () => {
    await seedRun(api, { runId: 'run-bola-4eyes', model: 'penguins', createdBy: api.subjects.approver });
    const r = await call(api, 'POST', '/v1/runs/run-bola-4eyes/approval', {
      token: api.tokens.approver,
      body: { decision: 'approve' },
    });
    expectProblem(r, 403);
    expect(r.body.reason).toBe('four-eyes');
  });
});

describe('3. unauthenticated routes', () => {
  it('only /healthz, /readyz, the sign-in page (and sign-out) and the signed git webhook take no token; every other route answers 401 without one', async () => {
    const open = api.app.routes.filter((r) => r.permission === null).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(open.sort()).toEqual([
      'DELETE /v1/session',
      'GET /healthz',
      'GET /readyz',
      'GET /v1/session',
      'POST /v1/hooks/git',
    ]);
    // The webhook is authenticated by its delivery's signature instead: unsigned, it is a 401.
    expectProblem(await call(api, 'POST', '/v1/hooks/git', { token: null, body: { ref: 'refs/heads/main' } }), 401);
    for (const r of api.app.routes.filter((x) => x.permission !== null)) {
      const p = r.path
        .replace(':id', 'x1')
        .replace(':name', 'penguins')
        .replace(':version', '1')
        .replace(':alias', 'staging');
      const res = await call(api, r.method.toUpperCase(), p, {
        token: null,
        body: r.method === 'get' ? undefined : {},
      });
      expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({
        route: `${r.method} ${r.path}`,
        status: 401,
      });
    }
  });

  it('the public answers reveal nothing: health is a fixed body, other methods on private paths still need a token', async () => {
    const health = await call(api, 'GET', '/healthz', { token: null });
    expect(health.body).toEqual({ status: 'ok' });
    expectProblem(await call(api, 'GET', '/openapi.json', { token: null }), 401);
    expectProblem(await call(api, 'GET', '/metrics', { token: null }), 401);
    expectProblem(await call(api, 'PATCH', '/v1/runs', { token: null }), 401); // 405 only after auth
    // The codec's CORS preflight is answered without a token (browsers send none) and carries no data.
    const preflight = await fetch(`${api.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: `http://127.0.0.1:${api.cfg.TEMPORAL_UI_PORT}`, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(await preflight.text()).toBe('');
    expectProblem(await call(api, 'POST', '/codec/decode', { token: null, body: { payloads: [] } }), 401);
  });
});

describe('4. rate limiting of failed token attempts (per client address)', () => {
  const BAD = `mlops_${'z'.repeat(43)}`;
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('429 with Retry-After after MLOPS_AUTH_FAILURE_LIMIT failures; successes never count; other addresses unaffected', async () => {
    const limited = await startTestApi({
      cfg: apiTestConfig({
        MLOPS_AUTH_FAILURE_LIMIT: '3',
        MLOPS_AUTH_FAILURE_WINDOW_S: '3',
        MLOPS_TRUST_PROXY_HOPS: '1',
      }),
    });
    try {
      const a = from('203.0.113.7');
      // A busy, well-behaved client is never limited.
      for (let i = 0; i < 10; i++) {
        expect((await call(limited, 'GET', '/v1/whoami', { token: limited.tokens.viewer, headers: a })).status).toBe(
          200
        );
      }
      // Failures, with successes in between: a success does not reset the count.
      for (let i = 0; i < 3; i++) {
        expectProblem(await call(limited, 'GET', '/v1/whoami', { token: BAD, headers: a }), 401);
        expect((await call(limited, 'GET', '/v1/whoami', { token: limited.tokens.viewer, headers: a })).status).toBe(
          i < 2 ? 200 : 429
        );
      }
      // Blocked: even a valid token from that address, so a guess that happens to be right is not confirmed.
      const blocked = await call(limited, 'GET', '/v1/whoami', { token: limited.tokens.viewer, headers: a });
      expectProblem(blocked, 429);
      const retryAfter = Number(blocked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(3);
      expect(blocked.body.detail).toMatch(/Too many failed token attempts from this address\. Retry in \d+ s\./);

      // Another address: its valid token works, its failure is a plain 401.
      const b = from('203.0.113.8');
      expect((await call(limited, 'GET', '/v1/whoami', { token: limited.tokens.viewer, headers: b })).status).toBe(200);
      expectProblem(await call(limited, 'GET', '/v1/whoami', { token: BAD, headers: b }), 401);
      // Health is never limited.
      expect((await call(limited, 'GET', '/healthz', { headers: a })).status).toBe(200);

      // After Retry-After the address may authenticate again.
      await new Promise((r) => setTimeout(r, retryAfter * 1000 + 200));
      expect((await call(limited, 'GET', '/v1/whoami', { token: limited.tokens.viewer, headers: a })).status).toBe(200);
      const metrics = await call(limited, 'GET', '/metrics', { token: limited.tokens.viewer });
      expect(metrics.text).toMatch(/mlops_auth_failures_total\{reason="rate_limited"\} [1-9]/);
    } finally {
      await limited.close();
    }
  });

  it('without trusted proxies X-Forwarded-For is ignored, so rotating it does not escape the limit', async () => {
    const limited = await startTestApi({ cfg: apiTestConfig({ MLOPS_AUTH_FAILURE_LIMIT: '2' }) });
    try {
      for (let i = 0; i < 2; i++) {
        expectProblem(await call(limited, 'GET', '/v1/whoami', { token: BAD, headers: from(`198.51.100.${i}`) }), 401);
      }
      expectProblem(await call(limited, 'GET', '/v1/whoami', { token: BAD, headers: from('198.51.100.99') }), 429);
    } finally {
      await limited.close();
    }
  });
});

describe('5. no model format that executes code on load', () => {
  it('the command trainer refuses a pickle written as model.onnx: non-retryable, named, never stored', async () => {
    const cfg = apiTestConfig();
    const workers = await startTestWorkers(cfg, api.store, ['control', 'gpu']);
    const client = await createClient(cfg);
    const attemptsFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'attack-')), 'attempts');
    try {
      const runId = `pickle-${randomUUID()}`;
      const handle = await startFixtureTraining(client, cfg, {
        runId,
        params: { mode: 'pickle-model', epochs: 1, attemptsFile },
        timeout: 60_000,
        store: api.store,
      });
      const err = await handle.result().then(
        () => null,
        (e: unknown) => e
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause?.cause as {
        message: string;
        type?: string;
        nonRetryable?: boolean;
      };
      expect(cause.type).toBe('CommandTrainerBadOutput');
      expect(cause.nonRetryable).toBe(true);
      expect(cause.message).toMatch(
        /model\.onnx written by the trainer is a Python pickle \(protocol 4\), not ONNX\. Only ONNX models are accepted/
      );
      expect(readFileSync(attemptsFile, 'utf8').trim().split('\n')).toEqual(['1']); // not retried
      const pickle = readFileSync(FIXTURE_TRAINER, 'utf8').match(/'(80049525[0-9a-f]+)'/)![1];
      const sha = createHash('sha256').update(Buffer.from(pickle, 'hex')).digest('hex');
      expect(await api.store.db.collection('artifacts').findOne({ _id: sha as never })).toBeNull();
    } finally {
      await workers.shutdown();
      await client.connection.close();
    }
  });
});

describe('6. server-side request forgery: dataset URLs are not accepted anywhere', () => {
  it.each([
    [{ path: 'http://169.254.169.254/latest/meta-data/iam/' }, 'body.dataset.path'],
    [{ path: 'http://127.0.0.1:27017/' }, 'body.dataset.path'],
    [{ path: 'file:///etc/passwd' }, 'body.dataset.path'],
    [{ url: 'https://example.com/train.csv' }, 'body.dataset.url'],
    [{ uri: 's3://bucket/train.csv' }, 'body.dataset.uri'],
    ['https://example.com/train.csv', 'body.dataset'],
  ])('refuses dataset %j at the edge, saying URLs are not fetched', async (dataset, field) => {
    const model = `ssrf-${randomUUID().slice(0, 8)}`;
    const r = await call(api, 'POST', '/v1/runs', {
      token: api.tokens.scientist,
      body: { ...MINIMAL_SPEC, model, dataset },
    });
    expectProblem(r, 400);
    expect(r.body.errors[0]).toEqual({ path: field, message: expect.stringMatching(/dataset URLs are not accepted/) });
    expect(r.body.detail).toMatch(/never fetches data from a URL.*datasets root/);
    expect(await runsOf(model)).toBe(0);
  });
});

describe('7. request size and depth limits, on every JSON route', () => {
  const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });

  it('413 for a body over MLOPS_MAX_BODY_BYTES, before it is parsed', async () => {
    const small = await startTestApi({ cfg: apiTestConfig({ MLOPS_MAX_BODY_BYTES: '2048' }) });
    try {
      const r = await call(small, 'POST', '/v1/tokens', {
        token: small.tokens.admin,
        body: { name: 'x'.repeat(3000), role: 'viewer' },
      });
      expectProblem(r, 413);
      expect(r.body.detail).toMatch(/limit of 2048 bytes/);
    } finally {
      await small.close();
    }
  });

  it('413 for nesting deeper than 16, too many keys, too long strings, too many array items', async () => {
    const cases: [string, string, string, unknown, RegExp][] = [
      ['POST', '/v1/tokens', api.tokens.admin, { name: 'x', role: 'viewer', extra: deep(40) }, /deeper than 16/],
      ['POST', '/v1/runs/run-x/approval', api.tokens.approver, { decision: 'approve', c: deep(17) }, /deeper than 16/],
      [
        'POST',
        '/v1/runs/run-x/cancel',
        api.tokens.admin,
        Object.fromEntries(Array.from({ length: 2_500 }, (_, i) => [`k${i}`, i])),
        /more than 2000 keys/,
      ],
      [
        'POST',
        '/v1/runs',
        api.tokens.scientist,
        { ...MINIMAL_SPEC, description: 'x'.repeat(70_000) },
        /longer than 65536/,
      ],
      [
        'POST',
        '/codec/decode',
        api.tokens.viewer,
        { payloads: Array.from({ length: 10_001 }, () => ({})) },
        /more than 10000 items/,
      ],
    ];
    for (const [method, p, token, body, why] of cases) {
      const r = await call(api, method, p, { token, body });
      expect({ p, status: r.status }).toEqual({ p, status: 413 });
      expectProblem(r, 413);
      expect(r.body.detail).toMatch(why);
    }
  });

  it('an oversized URL or header block is refused by the HTTP server (431)', async () => {
    const r = await fetch(`${api.url}/v1/runs?model=${'a'.repeat(20_000)}`, {
      headers: { authorization: `Bearer ${api.tokens.viewer}` },
    });
    expect(r.status).toBe(431);
  });
});
