// A model's lifecycle policy (how it is monitored and retrained), pause and resume of its retrain
// schedules, and the retrain triggers that arrive over HTTP: dataset change events and git push
// webhooks. The logic is in api/commands/.
import { z } from 'zod';
import { modelPolicySchema } from '../../lib/spec/policy';
import { DATASET_NAME_RE } from '../../lib/spec/schema';
import { callerOf } from '../commands/caller';
import { datasetEvent, gitPush } from '../commands/triggers';
import { setPolicy, showPolicy } from '../commands/policy';
import type { ApiContext } from '../context';
import { defineRoute, type RouteDef } from '../route';
import { MODEL_NAME_RE, param } from '../validation';
import { schedulePauseRoutes, scheduleStateSchema } from './schedules';
import { dateTime, passThrough, problemResponses } from './schemas';

const modelParams = z.object({ name: param.id(MODEL_NAME_RE, 'Model name') });
const datasetParams = z.object({ name: param.id(DATASET_NAME_RE, "Dataset name (a policy's retrain.onData.dataset)") });

export const datasetEventBody = z
  .object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, "the new data's sha256, 64 lower-case hex digits") })
  .strict();

const syncState = z.enum(['created', 'updated', 'deleted', 'absent']);
const scheduleSchema = z.object({ scheduleId: z.string(), state: syncState });
const storedPolicySchema = z.object({
  model: z.string(),
  policy: passThrough('The policy as stored (defaults filled in; docs/retraining.md)'),
  revision: z.number().int(),
  updatedAt: dateTime,
  updatedBy: z.string(),
});
const setPolicySchema = storedPolicySchema.extend({
  schedules: z.object({
    retrain: z.array(scheduleSchema),
    monitor: syncState.describe('The monitoring schedule (monitor-<model>)'),
  }),
});
export type SetPolicyJson = z.infer<typeof setPolicySchema>;
const lifecycleDecisionSchema = z.object({
  seq: z.number().int(),
  at: dateTime,
  outcome: z.string(),
  reason: z.string(),
  triggers: z.array(z.object({ kind: z.string() }).passthrough()),
  runId: z.string().optional(),
  datasetSha256: z.string().optional(),
});
const shownPolicySchema = storedPolicySchema.extend({
  decisions: z.array(lifecycleDecisionSchema).describe("The lifecycle workflow's latest decisions, newest first"),
  retrainSchedules: z
    .array(scheduleStateSchema)
    .nullable()
    .describe('The retrain schedules in Temporal (retrain-<model>, retrain-data-<model>); null: Temporal unreachable'),
});
export type PolicyJson = z.infer<typeof shownPolicySchema>;
const datasetEventSchema = z.object({ dataset: z.string(), sha256: z.string(), models: z.array(z.string()) });
const gitAckSchema = z.object({ delivery: z.string(), repository: z.string(), accepted: z.literal('ping') });
const gitPushSchema = z.object({
  delivery: z.string(),
  repository: z.string(),
  branch: z.string(),
  sha: z.string(),
  models: z.array(z.string()).describe('The models signalled'),
});

/** Where the raw bytes of a webhook delivery are kept (api/app.ts): the signature covers them. */
export const RAW_BODY_PATHS = ['/v1/hooks/'];

export function policyRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'put',
      path: '/v1/models/:name/policy',
      operationId: 'setModelPolicy',
      summary: "Set a model's lifecycle policy (monitoring and retraining)",
      description:
        "Replaces the policy, audits it and makes the model's Temporal Schedules (retraining and monitoring) follow it (docs/retraining.md). Scientists and admins may set it: a policy starts runs by itself, so it needs the runs:start permission. `retrain.spec.model` must be the model.",
      tag: 'models',
      permission: 'runs:start',
      params: modelParams,
      body: modelPolicySchema,
      responses: {
        200: {
          description: 'The stored policy, its revision and the schedules synced',
          schema: setPolicySchema,
          links: { getModelPolicy: { operationId: 'getModelPolicy', parameters: { name: '$response.body#/model' } } },
        },
        ...problemResponses(503),
      },
      async handler({ params, body }, req, res) {
        res.json(await setPolicy(ctx, callerOf(ctx, req, res), { model: params.name, policy: body }));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/models/:name/policy',
      operationId: 'getModelPolicy',
      summary: "Read a model's lifecycle policy",
      tag: 'models',
      permission: 'read',
      params: modelParams,
      responses: {
        200: { description: 'The stored policy and its revision', schema: shownPolicySchema },
        ...problemResponses(404),
      },
      async handler({ params }, _req, res) {
        res.json(await showPolicy(ctx, params.name));
      },
    }),
    ...schedulePauseRoutes(ctx, 'retrain'),
    defineRoute({
      method: 'post',
      path: '/v1/datasets/:name/events',
      operationId: 'postDatasetEvent',
      summary: 'Announce that a dataset changed',
      description:
        'Sends a data trigger (with the new sha256) to every model whose policy has `retrain.onData.dataset` equal to the name. The lifecycle workflow never starts a run for data it trained on.',
      tag: 'models',
      permission: 'runs:start',
      params: datasetParams,
      body: datasetEventBody,
      responses: {
        202: { description: 'The models signalled', schema: datasetEventSchema },
        ...problemResponses(503),
      },
      async handler({ params, body }, req, res) {
        const out = await datasetEvent(ctx, callerOf(ctx, req, res), { dataset: params.name, sha256: body.sha256 });
        res.status(202).json(out);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/hooks/git',
      operationId: 'gitWebhook',
      summary: 'Git push webhook (GitHub or GitLab)',
      description:
        'No bearer token: the delivery is authenticated by its signature instead. GitHub: X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the repository secret); GitLab: X-Gitlab-Token. The body must be JSON (content type application/json; anything else is a 415). Secrets per repository in MLOPS_GIT_HOOK_SECRETS. A bad signature is a 401 and starts nothing; a replayed delivery id (X-GitHub-Delivery / X-Gitlab-Event-UUID) is a 409. Pushes to a branch a policy names (`retrain.onCommit`) send a commit trigger with the sha.',
      tag: 'models',
      permission: null,
      rawJsonBody: {
        description: "The push event as GitHub or GitLab send it (the webhook's content type application/json)",
      },
      headers: [
        { name: 'X-Hub-Signature-256', description: 'GitHub: sha256=<hex HMAC of the raw body>' },
        { name: 'X-GitHub-Delivery', description: 'GitHub: the delivery id (refused when seen before)' },
        { name: 'X-GitHub-Event', description: 'GitHub: push (ping is acknowledged)' },
        { name: 'X-Gitlab-Token', description: 'GitLab: the secret token' },
        { name: 'X-Gitlab-Event-UUID', description: 'GitLab: the delivery id' },
      ],
      responses: {
        200: { description: 'A ping, acknowledged', schema: gitAckSchema },
        202: { description: 'The push and the models signalled', schema: gitPushSchema },
        ...problemResponses(400, 401, 409, 415, 422, 503),
      },
      async handler(_input, req, res) {
        const out = await gitPush(ctx, { raw: (req as { rawBody?: Buffer }).rawBody, header: (n) => req.get(n) });
        res.status(out.status).json(out.body);
      },
    }),
  ];
}
