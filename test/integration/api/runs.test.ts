// Runs through the API with the real Temporal server (no workers needed here): idempotent
// start, pagination stability while runs are inserted, four-eyes refusal, cancel ownership.
import { createRun, runs } from '../../../lib/store/runs';
import { createClient } from '../../../lib/temporal/connection';
import { call, expectProblem, MINIMAL_SPEC, seedRun, startTestApi, type TestApi } from './helpers';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ limits: { runCacheMs: 0 } });
});
afterAll(async () => {
  await api?.close();
});

describe('POST /v1/runs', () => {
  it('starts the pipeline workflow on the control queue and records the run', async () => {
    const r = await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, body: MINIMAL_SPEC });
    expect(r.status).toBe(202);
    expect(r.headers.get('location')).toBe(`/v1/runs/${r.body.runId}`);
    const client = await createClient(api.cfg);
    try {
      const d = await client.workflow.getHandle(r.body.runId).describe();
      expect(d.type).toBe('pipeline');
      expect(d.taskQueue).toBe(api.cfg.queues.control);
      await client.workflow.getHandle(r.body.runId).terminate('test cleanup');
    } finally {
      await client.connection.close();
    }
    const shown = await call(api, 'GET', `/v1/runs/${r.body.runId}`, { token: api.tokens.viewer });
    expect(shown.body).toMatchObject({
      runId: r.body.runId,
      model: { name: 'penguins', version: null },
      createdBy: 'sam',
    });
    const audit = await call(api, 'GET', `/v1/audit?objectType=run&objectId=${r.body.runId}`, {
      token: api.tokens.admin,
    });
    expect(audit.body.items[0]).toMatchObject({ action: 'run.start', actor: { subject: 'sam', role: 'scientist' } });
  });

  it('replays an Idempotency-Key: same run, one workflow, one record', async () => {
    const headers = { 'Idempotency-Key': 'replay-key-1' };
    const before = await runs(api.store.db).countDocuments({ createdBy: api.subjects.scientist });
    const first = await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, body: MINIMAL_SPEC, headers });
    const second = await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, body: MINIMAL_SPEC, headers });
    // Concurrent replays too.
    const many = await Promise.all(
      [1, 2, 3].map(() => call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, body: MINIMAL_SPEC, headers }))
    );
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    for (const r of [second, ...many]) {
      expect(r.status).toBe(202);
      expect(r.body.runId).toBe(first.body.runId);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
    }
    // One run document for the five requests (an _id lookup would be 1 by construction).
    expect(await runs(api.store.db).countDocuments({ createdBy: api.subjects.scientist })).toBe(before + 1);
    const starts = await call(api, 'GET', `/v1/audit?action=run.start&objectId=${first.body.runId}`, {
      token: api.tokens.admin,
    });
    expect(starts.body.items).toHaveLength(1);

    const conflict = await call(api, 'POST', '/v1/runs', {
      token: api.tokens.scientist,
      body: { ...MINIMAL_SPEC, model: 'other' },
      headers,
    });
    expectProblem(conflict, 422);
    // Keys are per subject: another person's same key starts their own run.
    const other = await call(api, 'POST', '/v1/runs', { token: api.tokens.admin, body: MINIMAL_SPEC, headers });
    expect(other.status).toBe(202);
    expect(other.body.runId).not.toBe(first.body.runId);
  });
});

describe('GET /v1/runs pagination', () => {
  it('pages stay stable (no duplicates, no gaps) while new runs are inserted', async () => {
    const db = api.store.db;
    const base = Date.UTC(2026, 0, 1);
    // 55 runs, several sharing a createdAt to exercise the _id tie-break.
    for (let i = 0; i < 55; i++) {
      await seedRun(api, {
        runId: `run-page-${String(i).padStart(3, '0')}`,
        model: 'pager',
        spec: MINIMAL_SPEC,
        at: new Date(base + Math.floor(i / 3) * 1000),
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const qs: string = `model=pager&limit=10${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await call(api, 'GET', `/v1/runs?${qs}`, { token: api.tokens.viewer });
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((x: { runId: string }) => x.runId));
      cursor = r.body.nextCursor;
      // New runs arrive between pages: newer than everything, so they must not shift pages.
      await seedRun(api, {
        runId: `run-page-new-${inserted++}`,
        model: 'pager',
        spec: MINIMAL_SPEC,
        at: new Date(base + 10_000_000 + inserted),
      });
    } while (cursor);
    const expected = Array.from({ length: 55 }, (_, i) => `run-page-${String(i).padStart(3, '0')}`).sort((a, b) => {
      const ta = Math.floor(Number(a.slice(-3)) / 3);
      const tb = Math.floor(Number(b.slice(-3)) / 3);
      return tb - ta || (a < b ? 1 : -1);
    });
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    expect(await db.collection('runs').countDocuments({ model: 'pager' })).toBe(55 + inserted);
  });

  it('filters by status, stage and time range', async () => {
    const at = new Date(Date.UTC(2025, 5, 1));
    await seedRun(api, { runId: 'run-f-1', model: 'filt', spec: MINIMAL_SPEC, at });
    await seedRun(api, {
      runId: 'run-f-2',
      model: 'filt',
      spec: MINIMAL_SPEC,
      at: new Date(at.getTime() + 86_400_000),
    });
    await runs(api.store.db).updateOne({ _id: 'run-f-2' }, { $set: { status: 'succeeded', stage: 'done' } });
    const get = async (qs: string) =>
      (await call(api, 'GET', `/v1/runs?model=filt&${qs}`, { token: api.tokens.viewer })).body.items.map(
        (x: { runId: string }) => x.runId
      );
    expect(await get('status=succeeded')).toEqual(['run-f-2']);
    expect(await get('stage=queued')).toEqual(['run-f-1']);
    expect(await get(`from=${new Date(at.getTime() + 1000).toISOString()}`)).toEqual(['run-f-2']);
    expect(await get(`to=${new Date(at.getTime() + 1000).toISOString()}`)).toEqual(['run-f-1']);
  });
});

describe('approval and cancel', () => {
  it('four eyes: the subject that started a run may not approve it, with any token', async () => {
    await createRun(api.store, { runId: 'run-4eyes', model: 'penguins', spec: MINIMAL_SPEC, createdBy: 'alice' });
    const r = await call(api, 'POST', '/v1/runs/run-4eyes/approval', {
      token: api.tokens.approver, // alice
      body: { decision: 'approve', comment: 'lgtm' },
    });
    expectProblem(r, 403);
    expect(r.body.reason).toBe('four-eyes');
    expect(r.body.detail).toMatch(/Four eyes: alice started run run-4eyes/);
    const audit = await call(api, 'GET', '/v1/audit?objectId=run-4eyes', { token: api.tokens.admin });
    expect(audit.body.items[0]).toMatchObject({
      action: 'run.approve',
      outcome: 'denied',
      actor: { subject: 'alice' },
    });
    // Another approver gets past four eyes (409 here: no workflow is waiting).
    const bob = await call(api, 'POST', '/v1/runs/run-4eyes/approval', {
      token: api.tokens.approver2,
      body: { decision: 'approve' },
    });
    expectProblem(bob, 409);
  });

  it('the approver comes from the token, never from the body', async () => {
    const r = await call(api, 'POST', '/v1/runs/run-4eyes/approval', {
      token: api.tokens.approver2,
      body: { decision: 'approve', approver: 'someone-else' },
    });
    expectProblem(r, 400);
    expect(r.body.detail).toMatch(/approver/);
  });

  it('a scientist may cancel only runs they started', async () => {
    await createRun(api.store, { runId: 'run-theirs', model: 'penguins', spec: MINIMAL_SPEC, createdBy: 'someone' });
    const r = await call(api, 'POST', '/v1/runs/run-theirs/cancel', { token: api.tokens.scientist });
    expectProblem(r, 403);
    const started = await call(api, 'POST', '/v1/runs', { token: api.tokens.scientist, body: MINIMAL_SPEC });
    const mine = await call(api, 'POST', `/v1/runs/${started.body.runId}/cancel`, {
      token: api.tokens.scientist2, // same person, another token
      body: { reason: 'wrong dataset' },
    });
    expect(mine.status).toBe(202);
    const client = await createClient(api.cfg);
    try {
      const handle = client.workflow.getHandle(started.body.runId);
      await handle.terminate('test cleanup'); // no worker runs the cancellation here
    } finally {
      await client.connection.close();
    }
  });

  it('cancelling a run that Temporal no longer has is a 409, not a 500', async () => {
    // The record says running, but the execution is gone (never started, or past retention).
    await createRun(api.store, { runId: 'run-gone', model: 'penguins', spec: MINIMAL_SPEC, createdBy: 'sam' });
    const r = await call(api, 'POST', '/v1/runs/run-gone/cancel', { token: api.tokens.scientist });
    expectProblem(r, 409);
    expect(r.body.detail).toBe('Run run-gone is not running any more; there is nothing to cancel.');
  });

  it('unknown runs are 404 problems', async () => {
    expectProblem(await call(api, 'GET', '/v1/runs/run-nope', { token: api.tokens.viewer }), 404);
    expectProblem(await call(api, 'GET', '/v1/runs/run-nope/events', { token: api.tokens.viewer }), 404);
    expectProblem(await call(api, 'GET', '/v1/runs/run-nope/metrics', { token: api.tokens.viewer }), 404);
  });
});

describe('run index', () => {
  it('lists runs started outside the API after reconciliation, with their live status', async () => {
    const { reconcileRunIndex } = await import('../../../api/reconciler');
    const client = await createClient(api.cfg);
    try {
      const runId = `run-external-${Date.now()}`;
      await createRun(api.store, { runId, model: 'external', spec: MINIMAL_SPEC });
      await seedRun(api, { runId: 'run-external-seed', model: 'external' }); // the key exists already
      const before = await call(api, 'GET', '/v1/runs?model=external', { token: api.tokens.viewer });
      expect(before.body.items.map((r: { runId: string }) => r.runId)).toEqual(['run-external-seed']);
      await client.workflow.start('pipeline', { taskQueue: api.cfg.queues.control, workflowId: runId, args: [{}] });
      const r = await reconcileRunIndex(api.app.ctx, Date.now() - 60_000);
      expect(r.indexed).toBeGreaterThanOrEqual(1);
      await runs(api.store.db).updateOne({ _id: runId }, { $set: { status: 'failed', stage: 'ingest' } });
      const after = await call(api, 'GET', '/v1/runs?model=external&status=failed', { token: api.tokens.viewer });
      expect(after.body.items.map((x: { runId: string }) => x.runId)).toEqual([runId]);
      await client.workflow.getHandle(runId).terminate('test cleanup');
    } finally {
      await client.connection.close();
    }
  });

  it('moves runs between status keys: on read for open keys, and by the sweep', async () => {
    const { sweepOpenRuns } = await import('../../../lib/store/run-index');
    const { getRun } = await import('../../../lib/store/runs');
    await seedRun(api, { runId: 'run-sw-1', model: 'sweep' });
    await seedRun(api, { runId: 'run-sw-2', model: 'sweep' });
    const ids = async (qs: string) =>
      (await call(api, 'GET', `/v1/runs?${qs}`, { token: api.tokens.viewer })).body.items.map(
        (r: { runId: string }) => r.runId
      );
    expect(await ids('status=running')).toEqual(expect.arrayContaining(['run-sw-1', 'run-sw-2']));
    await runs(api.store.db).updateOne({ _id: 'run-sw-1' }, { $set: { status: 'succeeded', stage: 'done' } });
    await runs(api.store.db).updateOne({ _id: 'run-sw-2' }, { $set: { status: 'failed', stage: 'train' } });
    // Model filter reads the model key and refreshes open entries: right at once.
    expect(await ids('model=sweep&status=succeeded')).toEqual(['run-sw-1']);
    // Status keys catch up with the sweep (the reconciler runs it every pass).
    await sweepOpenRuns(api.store.db, (id) => getRun(api.store, id));
    expect(await ids('status=failed')).toContain('run-sw-2');
    expect(await ids('status=running')).not.toEqual(expect.arrayContaining(['run-sw-1']));
    expect(await ids('status=running')).not.toContain('run-sw-2');
  });

  it('serves events by _id probes, then from the index document once the run ended', async () => {
    const { recordStepEnd, recordStepStart } = await import('../../../lib/store/events');
    const { indexedEvents } = await import('../../../lib/store/run-index');
    await seedRun(api, { runId: 'run-ev', model: 'ev' });
    const t = Date.now() - 10_000;
    await recordStepEnd(api.store, {
      runId: 'run-ev',
      step: 'ingest',
      attempt: 1,
      status: 'failed',
      startedAt: new Date(t),
      endedAt: new Date(t + 100),
      error: { message: 'boom' },
    });
    await recordStepEnd(api.store, {
      runId: 'run-ev',
      step: 'ingest',
      attempt: 2,
      status: 'completed',
      startedAt: new Date(t + 200),
      endedAt: new Date(t + 300),
    });
    await recordStepStart(api.store, { runId: 'run-ev', step: 'validate', attempt: 1, at: new Date(t + 400) });
    const open = await call(api, 'GET', '/v1/runs/run-ev/events', { token: api.tokens.viewer });
    expect(open.body.items.map((e: { id: string }) => e.id)).toEqual([
      'run-ev:ingest:1',
      'run-ev:ingest:2',
      'run-ev:validate:1',
    ]);
    expect(open.body.items[0]).toMatchObject({ status: 'failed', error: { message: 'boom' }, durationMs: 100 });
    expect(await indexedEvents(api.store.db, 'run-ev')).toBeNull(); // open run: not cached
    await runs(api.store.db).updateOne({ _id: 'run-ev' }, { $set: { status: 'failed' } });
    const ended = await call(api, 'GET', '/v1/runs/run-ev/events?limit=2', { token: api.tokens.viewer });
    expect(ended.body.items.map((e: { id: string }) => e.id)).toEqual(['run-ev:ingest:1', 'run-ev:ingest:2']);
    expect(await indexedEvents(api.store.db, 'run-ev')).toHaveLength(3);
    const rest = await call(api, 'GET', `/v1/runs/run-ev/events?limit=2&cursor=${ended.body.nextCursor}`, {
      token: api.tokens.viewer,
    });
    expect(rest.body).toMatchObject({
      items: [expect.objectContaining({ id: 'run-ev:validate:1' })],
      nextCursor: null,
    });
  });
});
