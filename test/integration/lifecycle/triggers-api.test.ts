// The HTTP side of retraining on a real API, Temporal and MongoDB-wire server: the policy is set
// and read, its retrain schedules are paused and resumed (API and CLI), and the git webhook is authenticated by its signature alone (bad signature -> 401 and
// nothing started; a form-encoded delivery -> 415; a replayed delivery -> 409, but a redelivery
// after a failed signal is accepted), GitLab's token works, the branch filter applies.
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../../cli/main';
import { WorkflowNotFoundError } from '@temporalio/client';
import { listAudit } from '../../../lib/store/audit';
import { createClient } from '../../../lib/temporal/connection';
import { monitorScheduleId } from '../../../lib/monitoring/schedule';
import { lifecycleWorkflowId } from '../../../lib/workflow-safe/lifecycle';
import { apiTestConfig, call, expectProblem, startTestApi, type TestApi } from '../api/helpers';

const SECRET = `hook-secret-${randomUUID()}`;
const REPO = 'acme/penguins';
const SHA = 'a'.repeat(39) + 'b';
let api: TestApi;
const model = `hook-${randomUUID().slice(0, 6)}`;

beforeAll(async () => {
  api = await startTestApi({
    cfg: apiTestConfig({ MLOPS_GIT_HOOK_SECRETS: `other/repo=${'x'.repeat(20)},${REPO}=${SECRET}` }),
  });
});
afterAll(async () => {
  const client = await createClient(api.cfg);
  await client.workflow
    .getHandle(lifecycleWorkflowId(model))
    .terminate('test over')
    .catch(() => undefined);
  await client.connection.close();
  await api?.close();
});

const push = (branch = 'main') =>
  JSON.stringify({ ref: `refs/heads/${branch}`, after: SHA, repository: { full_name: REPO }, commits: [] });
const sign = (raw: string, secret = SECRET) => 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex');
const github = (raw: string, signature: string, delivery = randomUUID()) =>
  call(api, 'POST', '/v1/hooks/git', {
    rawBody: raw,
    token: null,
    headers: { 'x-hub-signature-256': signature, 'x-github-event': 'push', 'x-github-delivery': delivery },
  });

/** The CLI against the test API, with no config file. */
async function run(args: string[], token: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: {
      MLOPS_API_URL: api.url,
      MLOPS_TOKEN: token,
      MLOPS_CONFIG: path.join(os.tmpdir(), `none-${randomUUID()}.json`),
    },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    sleep: async () => undefined,
  });
  return { code, stdout, stderr };
}

async function lifecycleExists(name = model): Promise<boolean> {
  const client = await createClient(api.cfg);
  try {
    await client.workflow.getHandle(lifecycleWorkflowId(name)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  } finally {
    await client.connection.close();
  }
}

describe('retrain triggers over HTTP', () => {
  it('sets and reads the policy; retrain.spec.model must be the model', async () => {
    const spec = { model, dataset: { name: 'penguins' }, target: 'species' };
    const body = { retrain: { onCommit: { repository: REPO, branch: 'main' }, cooldown: '1h', spec } };
    const put = await call(api, 'PUT', `/v1/models/${model}/policy`, { token: api.tokens.scientist, body });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      model,
      revision: 1,
      updatedBy: 'sam',
      policy: { retrain: { cooldown: 3_600_000, maxPerDay: 2 } },
    });
    const got = await call(api, 'GET', `/v1/models/${model}/policy`, { token: api.tokens.viewer });
    expect(got.body.policy.retrain.onCommit).toEqual({ repository: REPO, branch: 'main' });
    const other = await call(api, 'PUT', `/v1/models/${model}/policy`, {
      token: api.tokens.scientist,
      body: { retrain: { spec: { ...spec, model: 'someone-else' } } },
    });
    expect(other.status).toBe(400);
    expect(other.body.detail).toMatch(/retrain.spec.model is 'someone-else'/);
  });

  it('refuses a policy whose trigger can never fire, saying what to add', async () => {
    const spec = { model, dataset: { name: 'penguins' }, target: 'species' };
    const put = (retrain: Record<string, unknown>, extra = {}) =>
      call(api, 'PUT', `/v1/models/${model}/policy`, {
        token: api.tokens.scientist,
        body: { retrain: { ...retrain, spec }, ...extra },
      });
    const unsigned = await put({ onCommit: { repository: 'acme/unsigned', branch: 'main' } });
    expectProblem(unsigned, 400);
    expect(unsigned.body.detail).toMatch(/add 'acme\/unsigned=<secret>' to MLOPS_GIT_HOOK_SECRETS/);
    const unmonitored = await put({ onDrift: true });
    expectProblem(unmonitored, 400);
    expect(unmonitored.body.detail).toMatch(/no monitor section.*add "monitor"/);
    expect((await put({ onDrift: true }, { monitor: { every: '1h' } })).status).toBe(200);
    const got = await call(api, 'GET', `/v1/models/${model}/policy`, { token: api.tokens.viewer });
    expect(got.body.revision).toBe(2); // the refused ones stored nothing
    // Back to the commit policy the tests below use (which also deletes the monitoring schedule).
    const restored = await put({ onCommit: { repository: REPO, branch: 'main' }, cooldown: '1h' });
    expect(restored.body.schedules.monitor).toBe('deleted');
  });

  it('refuses a bad signature with 401 and starts nothing', async () => {
    const raw = push();
    for (const sig of [sign(raw, 'wrong-secret-wrong-secret'), sign(raw + ' '), 'sha1=abc', '']) {
      const r = await github(raw, sig);
      expect(r.status).toBe(401);
    }
    // Signed for another repository's secret while claiming this one.
    expect((await github(raw, sign(raw, 'x'.repeat(20)))).status).toBe(401);
    expect(await lifecycleExists()).toBe(false);
    expect(await api.store.db.collection('git_deliveries').countDocuments()).toBe(0);
  });

  it("answers GitHub's default form-encoded delivery with 415 saying to set application/json", async () => {
    const form = `payload=${encodeURIComponent(push())}`;
    const r = await call(api, 'POST', '/v1/hooks/git', {
      rawBody: form,
      token: null,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-hub-signature-256': sign(form),
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
      },
    });
    expectProblem(r, 415);
    expect(r.body.detail).toMatch(/set the webhook's content type to application\/json/);
    expect(await api.store.db.collection('git_deliveries').countDocuments()).toBe(0);
  });

  it('accepts a signed push once, refuses its replay, and filters by branch', async () => {
    const raw = push();
    const delivery = randomUUID();
    const ok = await github(raw, sign(raw), delivery);
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({ repository: REPO, branch: 'main', sha: SHA, models: [model] });
    expect(await lifecycleExists()).toBe(true);
    const replay = await github(raw, sign(raw), delivery);
    expect(replay.status).toBe(409);
    expect(replay.body.detail).toMatch(/received before/);
    const dev = push('dev');
    const other = await github(dev, sign(dev));
    expect(other.status).toBe(202);
    expect(other.body.models).toEqual([]);
    expect(api.logLines.join('\n')).not.toContain(SECRET);
  });

  it('accepts the redelivery of a push whose signalling failed, and refuses it once signalled', async () => {
    // A second API on the same database whose Temporal namespace does not exist: a real failed signal.
    const broken = await startTestApi({
      cfg: apiTestConfig({
        MONGODB_DB: api.cfg.MONGODB_DB,
        MLOPS_ADMIN_TOKEN: api.cfg.MLOPS_ADMIN_TOKEN as string,
        MLOPS_GIT_HOOK_SECRETS: `${REPO}=${SECRET}`,
        TEMPORAL_NAMESPACE: `no-such-namespace-${randomUUID().slice(0, 6)}`,
      }),
      keepDatabase: true,
    });
    const raw = push();
    const delivery = randomUUID();
    try {
      const failed = await call(broken, 'POST', '/v1/hooks/git', {
        rawBody: raw,
        token: null,
        headers: { 'x-hub-signature-256': sign(raw), 'x-github-event': 'push', 'x-github-delivery': delivery },
      });
      expect(failed.status).toBeGreaterThanOrEqual(500);
    } finally {
      await broken.close();
    }
    const redelivered = await github(raw, sign(raw), delivery);
    expect(redelivered.status).toBe(202);
    expect(redelivered.body.models).toEqual([model]);
    expect((await github(raw, sign(raw), delivery)).status).toBe(409);
  });

  it("accepts GitLab's X-Gitlab-Token", async () => {
    const raw = JSON.stringify({ ref: 'refs/heads/main', checkout_sha: SHA, project: { path_with_namespace: REPO } });
    const headers = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': randomUUID() };
    const bad = await call(api, 'POST', '/v1/hooks/git', {
      rawBody: raw,
      token: null,
      headers: { ...headers, 'x-gitlab-token': 'nope' },
    });
    expect(bad.status).toBe(401);
    const good = await call(api, 'POST', '/v1/hooks/git', {
      rawBody: raw,
      token: null,
      headers: { ...headers, 'x-gitlab-token': SECRET },
    });
    expect(good.status).toBe(202);
    expect(good.body.models).toEqual([model]);
  });

  it('POST /v1/datasets/{name}/events signals the models whose policy watches the dataset', async () => {
    const watcher = `feed-${randomUUID().slice(0, 6)}`;
    const spec = { model: watcher, dataset: { name: 'penguins' }, target: 'species' };
    const body = { retrain: { onData: { dataset: 'penguins-feed', checkEvery: 0 }, spec } };
    expect((await call(api, 'PUT', `/v1/models/${watcher}/policy`, { token: api.tokens.admin, body })).status).toBe(
      200
    );
    const r = await call(api, 'POST', '/v1/datasets/penguins-feed/events', {
      token: api.tokens.scientist,
      body: { sha256: 'c'.repeat(64) },
    });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ dataset: 'penguins-feed', sha256: 'c'.repeat(64), models: [watcher] });
    expect(await lifecycleExists(watcher)).toBe(true);
    const bad = await call(api, 'POST', '/v1/datasets/penguins-feed/events', {
      token: api.tokens.scientist,
      body: { sha256: 'x' },
    });
    expect(bad.status).toBe(400);
    const client = await createClient(api.cfg);
    await client.workflow.getHandle(lifecycleWorkflowId(watcher)).terminate('test over');
    await client.connection.close();
  });

  it('mlops policy set and show', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mlops-policy-'));
    const file = path.join(dir, 'policy.json');
    const spec = { model, dataset: { name: 'penguins' }, target: 'species' };
    await writeFile(file, JSON.stringify({ monitor: {}, retrain: { onDrift: true, maxPerDay: 3, spec } }));
    const set = await run(['policy', 'set', model, file], api.tokens.scientist);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toMatch(/retrain: {2}on drift; cooldown 21600000 ms, at most 3\/day/);
    const show = await run(['policy', 'show', model], api.tokens.viewer);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/policy revision 4, by sam/);
    const denied = await run(['policy', 'set', model, file], api.tokens.viewer);
    expect(denied.code).toBe(1);
    const client = await createClient(api.cfg);
    await client.schedule.getHandle(monitorScheduleId(model)).delete();
    await client.connection.close();
  });

  it('pauses and resumes the retrain schedules: Temporal says so, and the policy shows it', async () => {
    const timed = `timed-${randomUUID().slice(0, 6)}`;
    const spec = { model: timed, dataset: { name: 'penguins' }, target: 'species' };
    const policy = (cooldown: string) => ({
      retrain: { schedule: '0 3 * * 0', onData: { dataset: 'penguins', checkEvery: '1h' }, cooldown, spec },
    });
    const put = (cooldown: string) =>
      call(api, 'PUT', `/v1/models/${timed}/policy`, { token: api.tokens.scientist, body: policy(cooldown) });
    expect((await put('1h')).status).toBe(200);
    const ids = [`retrain-${timed}`, `retrain-data-${timed}`];
    const client = await createClient(api.cfg);
    const states = () => Promise.all(ids.map(async (id) => (await client.schedule.getHandle(id).describe()).state));
    const shown = async () =>
      (await call(api, 'GET', `/v1/models/${timed}/policy`, { token: api.tokens.viewer })).body.retrainSchedules.map(
        (s: { scheduleId: string; paused: boolean; note: string | null }) => [s.scheduleId, s.paused, s.note]
      );
    try {
      expect((await states()).map((s) => s.paused)).toEqual([false, false]);
      const paused = await call(api, 'POST', `/v1/models/${timed}/retraining/pause`, {
        token: api.tokens.scientist,
        body: { note: 'data freeze' },
      });
      expect(paused.status).toBe(200);
      expect(paused.body).toEqual({ model: timed, paused: true, note: 'data freeze', schedules: ids });
      expect(await states()).toEqual(ids.map(() => expect.objectContaining({ paused: true, note: 'data freeze' })));
      expect(await shown()).toEqual(ids.map((id) => [id, true, 'data freeze']));
      // A policy change updates the schedules in place and keeps the pause.
      expect((await put('2h')).status).toBe(200);
      expect((await states()).map((s) => s.paused)).toEqual([true, true]);
      const show = await run(['policy', 'show', timed], api.tokens.viewer);
      expect(show.stdout).toContain(`schedule: retrain-${timed} paused (data freeze)`);

      const resumed = await run(['policy', 'resume', timed, '--reason', 'freeze over'], api.tokens.scientist);
      expect(resumed).toMatchObject({ code: 0, stderr: '' });
      expect(resumed.stdout).toContain(`${timed}: retraining resumed`);
      expect(await states()).toEqual(ids.map(() => expect.objectContaining({ paused: false, note: 'freeze over' })));
      expect(await shown()).toEqual(ids.map((id) => [id, false, 'freeze over']));

      const audit = await listAudit(api.store.db, { objectId: timed, limit: 20 });
      expect(audit.map((a) => a.action)).toEqual(
        expect.arrayContaining(['model.retrain.pause', 'model.retrain.resume'])
      );
      expect(audit.find((a) => a.action === 'model.retrain.pause')).toMatchObject({
        actor: expect.objectContaining({ subject: 'sam' }),
        details: { note: 'data freeze', schedules: ids },
      });
      expect((await run(['policy', 'pause', timed], api.tokens.viewer)).code).toBe(1);
    } finally {
      await Promise.all(
        ids.map((id) =>
          client.schedule
            .getHandle(id)
            .delete()
            .catch(() => undefined)
        )
      );
      await client.connection.close();
    }
  });
});
