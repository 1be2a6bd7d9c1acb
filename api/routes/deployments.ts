// Rollouts: list and read deployment records (steps, weights, the numbers each decision used, who
// decided and why), start one, and the human overrides (pause, resume, promote now, abort). The
// rules live in api/commands/deployments.ts; this file declares the routes.
import { z } from 'zod';
import { DEPLOY_STRATEGIES, deploySchema } from '../../lib/spec/deploy';
import { DEPLOYMENT_STATES, listDeploymentDecisions, listDeployments } from '../../lib/store/deployment-records';
import { OVERRIDE_ACTIONS, type OverrideAction } from '../../lib/workflow-safe/deploy-override';
import { callerOf } from '../commands/caller';
import {
  deploymentView,
  liveRollout,
  mustGetDeployment,
  overrideDeployment,
  requestDeployment,
} from '../commands/deployments';
import type { ApiContext } from '../context';
import { defineRoute, type RouteDef } from '../route';
import { ID_RE, MODEL_NAME_RE, offsetPage, param, q } from '../validation';
import { dateTime, pageOf, passThrough, problemResponses } from './schemas';

const listQuery = z
  .object({
    model: q.id(MODEL_NAME_RE),
    state: z.enum(DEPLOYMENT_STATES).optional(),
    limit: q.limit(100, 20),
    cursor: q.cursor(z.object({ skip: z.number().int().min(0).max(1_000_000) })),
  })
  .strict();
const startBody = z
  .object({
    model: z.string().regex(MODEL_NAME_RE, 'a model name'),
    version: z.number().int().min(1).max(1_000_000_000),
    deploy: deploySchema.optional(),
  })
  .strict();
const overrideBody = z.object({ reason: z.string().trim().min(1, 'say why').max(2_000) }).strict();
const deploymentParams = z.object({ id: param.id(ID_RE, 'Deployment id') });

const versionNumbers = z.object({
  requests: z.number().int(),
  errors: z.number().int(),
  errorRate: z.number().nullable(),
  p99Ms: z.number().nullable(),
  predictions: z.record(z.number()).describe('Predictions per class'),
});
/** A gate decision with the numbers it used (stored ones add `at`, live ones their `window`). */
const gateSchema = z.object({
  outcome: z.enum(['pass', 'fail', 'inconclusive']),
  reasons: z.array(z.string()),
  candidate: versionNumbers,
  stable: versionNumbers,
  shift: z.number().nullable(),
  psi: z.number().nullable(),
  agreement: z.number().nullable(),
  gates: passThrough('The gate thresholds the decision used'),
});
const stepSchema = z.object({
  index: z.number().int(),
  weight: z.number().int(),
  startedAt: dateTime,
  endedAt: dateTime.nullable(),
  outcome: z.enum(['pass', 'fail', 'inconclusive', 'promoted', 'aborted']).nullable(),
});
const deploymentSchema = z.object({
  id: z.string(),
  model: z.string(),
  version: z.number().int(),
  stable: z.number().int().nullable().describe('The production holder when the rollout began'),
  strategy: z.enum(DEPLOY_STRATEGIES),
  config: passThrough('The deploy settings in force (defaults filled in)'),
  state: z.enum(DEPLOYMENT_STATES),
  weight: z.number().int().describe('Percent of callers the candidate answers now'),
  steps: z.array(stepSchema),
  lastGate: gateSchema.nullable().describe('The last gate decision with the numbers it used'),
  requestedBy: z.string(),
  runId: z.string().nullable(),
  workflowId: z.string(),
  reason: z.string().nullable(),
  createdAt: dateTime,
  updatedAt: dateTime,
  endedAt: dateTime.nullable(),
});
export type DeploymentJson = z.infer<typeof deploymentSchema>;
const decisionSchema = z.object({
  seq: z.number().int(),
  at: dateTime,
  kind: z.enum(['start', 'step', 'gate', 'override', 'pause', 'promote', 'rollback']),
  outcome: z.string(),
  by: z.string().describe('"rollout" for the workflow\'s own gates, else the approver'),
  reason: z.string().nullable(),
  step: z.number().int().nullable(),
  weight: z.number().int().nullable(),
  metrics: gateSchema.optional(),
});
const liveSchema = z.object({
  deploymentId: z.string(),
  model: z.string(),
  version: z.number().int(),
  stable: z.number().int().nullable(),
  strategy: z.enum(DEPLOY_STRATEGIES),
  state: z.enum(DEPLOYMENT_STATES),
  weight: z.number().int(),
  step: z.number().int().nullable(),
  steps: z.array(z.number().int()),
  lastGate: gateSchema.nullable(),
  requestedBy: z.string(),
  reason: z.string().nullable(),
});
const detailSchema = deploymentSchema.extend({
  decisions: z.array(decisionSchema),
  live: liveSchema.nullable().describe('The running workflow state (null once ended)'),
});
export type DeploymentDetailJson = z.infer<typeof detailSchema>;
const startedSchema = z.object({ id: z.string(), model: z.string(), version: z.number().int() });
export type StartedDeploymentJson = z.infer<typeof startedSchema>;
const overrideSchema = z.object({ id: z.string(), action: z.enum(OVERRIDE_ACTIONS), actor: z.string() });
export type DeploymentOverrideJson = z.infer<typeof overrideSchema>;

/** The operations a started rollout's id is used by. */
const deploymentLinks = Object.fromEntries(
  ['getDeployment', ...OVERRIDE_ACTIONS.map((a) => `${a}Deployment`)].map((operationId) => [
    operationId,
    { operationId, parameters: { id: '$response.body#/id' } },
  ])
);

export function deploymentRoutes(ctx: ApiContext): RouteDef[] {
  const overrideRoute = (action: OverrideAction): RouteDef =>
    defineRoute({
      method: 'post',
      path: `/v1/deployments/:id/${action}`,
      operationId: `${action}Deployment`,
      summary: `${action[0]!.toUpperCase()}${action.slice(1)} a running rollout`,
      description:
        'The actor is the subject of the token. Resume and promote follow four eyes (not the requester of the rollout, 403). The API signs the override and the workflow checks it again; 409 when it refuses it.',
      tag: 'deployments',
      permission: 'deployments:manage',
      params: deploymentParams,
      body: overrideBody,
      responses: {
        202: { description: 'Taken by the workflow', schema: overrideSchema },
        ...problemResponses(404, 409, 503),
      },
      async handler({ params: { id }, body }, req, res) {
        const caller = callerOf(ctx, req, res);
        await overrideDeployment(ctx, caller, { id, action, reason: body.reason });
        res.status(202).json({ id, action, actor: caller.who.subject });
      },
    });

  return [
    defineRoute({
      method: 'get',
      path: '/v1/deployments',
      operationId: 'listDeployments',
      summary: 'List rollouts, newest first',
      tag: 'deployments',
      permission: 'read',
      query: listQuery,
      responses: {
        200: { description: 'A page of deployments', schema: pageOf(deploymentSchema) },
      },
      async handler({ query }, _req, res) {
        const { model, state } = query;
        const page = await offsetPage(query, (limit, skip) =>
          listDeployments(ctx.store, { model, state, limit, skip })
        );
        res.json({ items: page.items.map((d) => deploymentView(d)), nextCursor: page.nextCursor });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/deployments/:id',
      operationId: 'getDeployment',
      summary: 'A rollout: steps, weights, every decision with who, why and the numbers used',
      tag: 'deployments',
      permission: 'read',
      params: deploymentParams,
      responses: {
        200: { description: 'The deployment', schema: detailSchema },
        ...problemResponses(404),
      },
      async handler({ params: { id } }, _req, res) {
        const d = await mustGetDeployment(ctx.store, id);
        const decisions = await listDeploymentDecisions(ctx.store, id);
        const live = await ctx.temporal
          .client()
          .then((c) => liveRollout(c, d))
          .catch(() => null);
        res.json(deploymentView(d, decisions, live));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/deployments',
      operationId: 'startDeployment',
      summary: 'Roll out an approved model version (canary, blue-green or shadow)',
      description:
        'One rollout per model at a time: 409 names the running one. The caller is the requester (four eyes: they may not resume or promote it). Fields of `deploy` default as in docs/deployments.md.',
      tag: 'deployments',
      permission: 'deployments:manage',
      body: startBody,
      responses: {
        202: { description: 'Started', schema: startedSchema, links: deploymentLinks },
        ...problemResponses(404, 409, 503),
      },
      async handler({ body }, req, res) {
        const input = await requestDeployment(ctx, callerOf(ctx, req, res), body);
        res.status(202).json({ id: input.deploymentId, model: input.model, version: input.version });
      },
    }),
    ...OVERRIDE_ACTIONS.map(overrideRoute),
  ];
}
