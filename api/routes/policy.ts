// A model's lifecycle policy (how it is monitored and retrained) and the retrain triggers that
// arrive over HTTP: dataset change events and git push webhooks. The logic is in api/commands/.
import { z } from 'zod';
import { modelPolicySchema } from '../../lib/spec/policy';
import { DATASET_NAME_RE } from '../../lib/spec/schema';
import { principal } from '../auth';
import { datasetEvent, gitPush } from '../commands/triggers';
import { setPolicy, showPolicy } from '../commands/policy';
import type { ApiContext } from '../context';
import type { RouteDef } from '../route';
import { MODEL_NAME_RE, parseBody, pathParam } from '../validation';
import { problemResponses } from './schemas';

const nameParam = { name: 'name', description: 'Model name', pattern: MODEL_NAME_RE.source };
const datasetParam = {
  name: 'name',
  description: "Dataset name (a policy's retrain.onData.dataset)",
  pattern: DATASET_NAME_RE.source,
};

export const datasetEventBody = z
  .object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, "the new data's sha256, 64 lower-case hex digits") })
  .strict();

/** Where the raw bytes of a webhook delivery are kept (api/app.ts): the signature covers them. */
export const RAW_BODY_PATHS = ['/v1/hooks/'];

export function policyRoutes(ctx: ApiContext): RouteDef[] {
  return [
    {
      method: 'put',
      path: '/v1/models/:name/policy',
      operationId: 'setModelPolicy',
      summary: "Set a model's lifecycle policy (monitoring and retraining)",
      description:
        "Replaces the policy, audits it and makes the model's Temporal Schedules follow it (docs/retraining.md). Scientists and admins may set it: a policy starts runs by itself, so it needs the runs:start permission. `retrain.spec.model` must be the model.",
      tag: 'models',
      permission: 'runs:start',
      params: [nameParam],
      body: modelPolicySchema,
      responses: {
        200: { description: 'The stored policy, its revision and the schedules synced' },
        ...problemResponses(400, 401, 403, 503),
      },
      async handler(req, res) {
        const model = pathParam(req, 'name', MODEL_NAME_RE, 'Model name');
        const policy = parseBody(modelPolicySchema, req);
        const out = await setPolicy(ctx, { model, policy, subject: principal(res).subject }, (e) =>
          ctx.audit(req, res, e)
        );
        res.json(out);
      },
    },
    {
      method: 'get',
      path: '/v1/models/:name/policy',
      operationId: 'getModelPolicy',
      summary: "Read a model's lifecycle policy",
      tag: 'models',
      permission: 'read',
      params: [nameParam],
      responses: { 200: { description: 'The stored policy and its revision' }, ...problemResponses(400, 401, 404) },
      async handler(req, res) {
        res.json(await showPolicy(ctx, pathParam(req, 'name', MODEL_NAME_RE, 'Model name')));
      },
    },
    {
      method: 'post',
      path: '/v1/datasets/:name/events',
      operationId: 'postDatasetEvent',
      summary: 'Announce that a dataset changed',
      description:
        'Sends a data trigger (with the new sha256) to every model whose policy has `retrain.onData.dataset` equal to the name. The lifecycle workflow never starts a run for data it trained on.',
      tag: 'models',
      permission: 'runs:start',
      params: [datasetParam],
      body: datasetEventBody,
      responses: { 202: { description: 'The models signalled' }, ...problemResponses(400, 401, 403, 503) },
      async handler(req, res) {
        const dataset = pathParam(req, 'name', DATASET_NAME_RE, 'Dataset name');
        const body = parseBody(datasetEventBody, req);
        const out = await datasetEvent(ctx, { dataset, sha256: body.sha256 });
        await ctx.audit(req, res, { action: 'dataset.event', object: { type: 'dataset', id: dataset }, details: out });
        res.status(202).json(out);
      },
    },
    {
      method: 'post',
      path: '/v1/hooks/git',
      operationId: 'gitWebhook',
      summary: 'Git push webhook (GitHub or GitLab)',
      description:
        'No bearer token: the delivery is authenticated by its signature instead. GitHub: X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the repository secret); GitLab: X-Gitlab-Token. Secrets per repository in MLOPS_GIT_HOOK_SECRETS. A bad signature is a 401 and starts nothing; a replayed delivery id (X-GitHub-Delivery / X-Gitlab-Event-UUID) is a 409. Pushes to a branch a policy names (`retrain.onCommit`) send a commit trigger with the sha.',
      tag: 'models',
      permission: null,
      headers: [
        { name: 'X-Hub-Signature-256', description: 'GitHub: sha256=<hex HMAC of the raw body>' },
        { name: 'X-GitHub-Delivery', description: 'GitHub: the delivery id (refused when seen before)' },
        { name: 'X-GitHub-Event', description: 'GitHub: push (ping is acknowledged)' },
        { name: 'X-Gitlab-Token', description: 'GitLab: the secret token' },
        { name: 'X-Gitlab-Event-UUID', description: 'GitLab: the delivery id' },
      ],
      responses: {
        200: { description: 'A ping, acknowledged' },
        202: { description: 'The push and the models signalled' },
        ...problemResponses(400, 401, 409, 422, 503),
      },
      async handler(req, res) {
        const out = await gitPush(ctx, { raw: (req as { rawBody?: Buffer }).rawBody, header: (n) => req.get(n) });
        res.status(out.status).json(out.body);
      },
    },
  ];
}
