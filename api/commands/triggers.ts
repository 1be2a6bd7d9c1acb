// Retrain triggers that arrive over HTTP, apart from HTTP: a dataset change announced by
// POST /v1/datasets/{name}/events, and a git push delivered to POST /v1/hooks/git. Each finds the
// models whose policy asks for it and signals-with-start their lifecycle workflows, which decide.
import type { Client } from '@temporalio/client';
import { signalRetrainTrigger } from '../../lib/lifecycle/trigger';
import { parseHookSecrets, pushOf, verifyGithubSignature, verifyGitlabToken } from '../../lib/lifecycle/webhook';
import { forgetGitDelivery, recordGitDelivery } from '../../lib/store/git-deliveries';
import { modelPolicies } from '../../lib/store/policies';
import type { RetrainTrigger } from '../../lib/workflow-safe/lifecycle';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { Caller } from './caller';

/** Signals `trigger` to every model whose stored policy matches `where`; returns their names. */
async function signalMatching(
  ctx: ApiContext,
  client: Client,
  where: Record<string, string>,
  trigger: RetrainTrigger
): Promise<string[]> {
  const docs = await modelPolicies(ctx.store.db)
    .find(where, { projection: { _id: 1 } })
    .toArray();
  const models = docs.map((d) => d._id);
  for (const model of models) {
    await signalRetrainTrigger(client, { model, taskQueue: ctx.cfg.queues.control }, trigger);
  }
  return models;
}

/** Signals the models that retrain on this dataset, and audits the announcement with their names. */
export async function datasetEvent(ctx: ApiContext, caller: Caller, input: { dataset: string; sha256: string }) {
  const client = await ctx.temporal.client();
  const models = await signalMatching(
    ctx,
    client,
    { 'policy.retrain.onData.dataset': input.dataset },
    {
      kind: 'data',
      dataset: input.dataset,
      sha256: input.sha256,
      at: new Date().toISOString(),
    }
  );
  const out = { dataset: input.dataset, sha256: input.sha256, models };
  await caller.audit({ action: 'dataset.event', object: { type: 'dataset', id: input.dataset }, details: out });
  return out;
}

export interface GitDelivery {
  /** The body's bytes; undefined when it was empty or not JSON. */
  raw: Buffer | undefined;
  header(name: string): string | undefined;
}

/** Verifies, de-duplicates and applies one webhook delivery (GitHub or GitLab). */
export async function gitPush(ctx: ApiContext, d: GitDelivery) {
  if (!d.raw) {
    // Only JSON bodies keep their raw bytes (api/app.ts), so any other type (GitHub's default is
    // application/x-www-form-urlencoded) could never verify: say so instead of "signature wrong".
    throw problems.unsupportedMedia(
      "The delivery has no JSON body, so its signature cannot be checked: set the webhook's content type to application/json."
    );
  }
  const secrets = parseHookSecrets(ctx.cfg.MLOPS_GIT_HOOK_SECRETS);
  const raw = d.raw;
  const gitlab = d.header('x-gitlab-token') !== undefined;
  const repo = gitlab
    ? verifyGitlabToken(d.header('x-gitlab-token'), secrets)
    : verifyGithubSignature(raw, d.header('x-hub-signature-256'), secrets);
  if (!repo) {
    throw problems.unauthorized(
      gitlab
        ? 'X-Gitlab-Token matches no repository secret in MLOPS_GIT_HOOK_SECRETS.'
        : 'X-Hub-Signature-256 is missing or wrong: sign the raw JSON body with the repository secret set in MLOPS_GIT_HOOK_SECRETS.'
    );
  }
  const event = gitlab ? d.header('x-gitlab-event') : d.header('x-github-event');
  const deliveryId = gitlab
    ? (d.header('x-gitlab-event-uuid') ?? d.header('idempotency-key'))
    : d.header('x-github-delivery');
  if (!deliveryId || !/^[A-Za-z0-9-]{1,100}$/.test(deliveryId)) {
    throw problems.badRequest(`${gitlab ? 'X-Gitlab-Event-UUID' : 'X-GitHub-Delivery'} is missing or not an id.`);
  }
  if (event === 'ping') return { status: 200, body: { delivery: deliveryId, repository: repo, accepted: 'ping' } };
  if (event !== 'push' && event !== 'Push Hook') {
    throw problems.unprocessable(`Only push events retrain; this delivery is '${event ?? 'unnamed'}'.`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(raw.toString('utf8'));
  } catch {
    throw problems.badRequest('The delivery body is not JSON; set the webhook content type to application/json.');
  }
  const push = pushOf(payload);
  if (!push) throw problems.unprocessable('The payload is not a push to a branch (or deletes the branch).');
  if (push.repository !== repo) {
    throw problems.unauthorized(`The delivery is signed for ${repo} but describes ${push.repository}.`);
  }
  const client = await ctx.temporal.client(); // a 503 before the id is spent, so the sender's retry counts
  if (!(await recordGitDelivery(ctx.store, deliveryId, repo))) {
    throw problems.conflict(`Delivery ${deliveryId} was received before; a replayed delivery starts nothing.`);
  }
  const where = {
    'policy.retrain.onCommit.repository': push.repository,
    'policy.retrain.onCommit.branch': push.branch,
  };
  const trigger: RetrainTrigger = {
    kind: 'commit',
    repository: push.repository,
    branch: push.branch,
    sha: push.sha,
    deliveryId,
    at: new Date().toISOString(),
  };
  let models: string[];
  try {
    models = await signalMatching(ctx, client, where, trigger);
  } catch (err) {
    // The id was claimed first (one replica wins a replay race); a push that signalled nothing is
    // not received, so the sender's Redeliver (same id) must be accepted. Models signalled before
    // the failure get the commit again, which their lifecycle coalesces or skips (same data and sha).
    await forgetGitDelivery(ctx.store, deliveryId).catch((e: Error) =>
      ctx.log.error('git delivery not forgotten; its redelivery will be refused', { deliveryId, error: e.message })
    );
    throw err;
  }
  return { status: 202, body: { delivery: deliveryId, ...push, models } };
}
