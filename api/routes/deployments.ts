// Rollouts: list and read deployment records (steps, weights, the numbers each decision used, who
// decided and why), start one, and the human overrides (pause, resume, promote now, abort). The
// rules live in api/commands/deployments.ts; this file declares the routes.
import { z } from 'zod';
import { deploySchema } from '../../lib/spec/deploy';
import { DEPLOYMENT_STATES, listDeploymentDecisions, listDeployments } from '../../lib/store/deployment-records';
import { OVERRIDE_ACTIONS, type OverrideAction } from '../../lib/workflow-safe/deploy-override';
import { principal } from '../auth';
import {
  deploymentView,
  liveRollout,
  mustGetDeployment,
  overrideProblem,
  sendOverride,
  startDeployment,
} from '../commands/deployments';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { RouteDef } from '../route';
import { decodeCursor, encodeCursor, ID_RE, MODEL_NAME_RE, parseBody, parseQuery, pathParam, q } from '../validation';
import { pageOf, problemResponses } from './schemas';

const listQuery = z
  .object({
    model: q.id(MODEL_NAME_RE),
    state: z.enum(DEPLOYMENT_STATES).optional(),
    limit: q.limit(100, 20),
    cursor: q.cursor(),
  })
  .strict();
const startBody = z
  .object({
    model: z.string().regex(MODEL_NAME_RE, 'a model name'),
    version: z.number().int().min(1),
    deploy: deploySchema.optional(),
  })
  .strict();
const overrideBody = z.object({ reason: z.string().trim().min(1, 'say why').max(2_000) }).strict();

const idParam = { name: 'id', description: 'Deployment id', pattern: ID_RE.source };
const deploymentSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    model: { type: 'string' },
    version: { type: 'integer' },
    stable: { type: ['integer', 'null'] },
    strategy: { type: 'string', enum: ['canary', 'blue-green', 'shadow'] },
    state: { type: 'string', enum: [...DEPLOYMENT_STATES] },
    weight: { type: 'integer' },
    steps: { type: 'array', items: { type: 'object' } },
    lastGate: { type: ['object', 'null'], description: 'The last gate decision with the numbers it used' },
    requestedBy: { type: 'string' },
    reason: { type: ['string', 'null'] },
  },
};
const detailSchema = {
  ...deploymentSchema,
  properties: {
    ...deploymentSchema.properties,
    decisions: { type: 'array', items: { type: 'object', description: 'kind, outcome, by, reason, weight, metrics' } },
    live: { type: ['object', 'null'], description: 'The running workflow state (null once ended)' },
  },
};

export function deploymentRoutes(ctx: ApiContext): RouteDef[] {
  const overrideRoute = (action: OverrideAction): RouteDef => ({
    method: 'post',
    path: `/v1/deployments/:id/${action}`,
    operationId: `${action}Deployment`,
    summary: `${action[0]!.toUpperCase()}${action.slice(1)} a running rollout`,
    description:
      'The actor is the subject of the token. Resume and promote follow four eyes (not the requester of the rollout, 403). The API signs the override and the workflow checks it again; 409 when it refuses it.',
    tag: 'deployments',
    permission: 'deployments:manage',
    params: [idParam],
    body: overrideBody,
    responses: {
      202: { description: 'Taken by the workflow', schema: { type: 'object' } },
      ...problemResponses(400, 401, 403, 404, 409, 413, 415, 503),
    },
    async handler(req, res) {
      const id = pathParam(req, 'id', ID_RE, 'a deployment id');
      const body = parseBody(overrideBody, req);
      const me = principal(res);
      const d = await mustGetDeployment(ctx.store, id);
      const problem = overrideProblem(d, action, me.subject);
      if (problem) {
        await ctx.audit(req, res, {
          action: `deployment.${action}`,
          object: { type: 'deployment', id },
          outcome: 'denied',
          details: { reason: problem },
        });
        throw d.endedAt ? problems.conflict(problem) : problems.forbidden(problem, { extra: { reason: 'four-eyes' } });
      }
      await sendOverride(ctx.store, await ctx.temporal.client(), d, { action, actor: me.subject, reason: body.reason });
      await ctx.audit(req, res, {
        action: `deployment.${action}`,
        object: { type: 'deployment', id },
        details: { reason: body.reason, model: d.model },
      });
      res.status(202).json({ id, action, actor: me.subject });
    },
  });

  return [
    {
      method: 'get',
      path: '/v1/deployments',
      operationId: 'listDeployments',
      summary: 'List rollouts, newest first',
      tag: 'deployments',
      permission: 'read',
      query: listQuery,
      responses: {
        200: { description: 'A page of deployments', schema: pageOf(deploymentSchema) },
        ...problemResponses(400, 401),
      },
      async handler(req, res) {
        const query = parseQuery(listQuery, req);
        const cur = decodeCursor(query.cursor, z.object({ skip: z.number().int().min(0).max(1_000_000) }));
        const skip = cur?.skip ?? 0;
        const items = await listDeployments(ctx.store, { ...query, limit: query.limit + 1, skip });
        const page = items.slice(0, query.limit);
        const nextCursor = items.length > query.limit ? encodeCursor({ skip: skip + page.length }) : null;
        res.json({ items: page.map((d) => deploymentView(d)), nextCursor });
      },
    },
    {
      method: 'get',
      path: '/v1/deployments/:id',
      operationId: 'getDeployment',
      summary: 'A rollout: steps, weights, every decision with who, why and the numbers used',
      tag: 'deployments',
      permission: 'read',
      params: [idParam],
      responses: {
        200: { description: 'The deployment', schema: detailSchema },
        ...problemResponses(400, 401, 404),
      },
      async handler(req, res) {
        const id = pathParam(req, 'id', ID_RE, 'a deployment id');
        const d = await mustGetDeployment(ctx.store, id);
        const decisions = await listDeploymentDecisions(ctx.store, id);
        const live = await ctx.temporal
          .client()
          .then((c) => liveRollout(c, d))
          .catch(() => null);
        res.json(deploymentView(d, decisions, live));
      },
    },
    {
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
        202: { description: 'Started', schema: { type: 'object', properties: { id: { type: 'string' } } } },
        ...problemResponses(400, 401, 403, 404, 409, 413, 415, 503),
      },
      async handler(req, res) {
        const body = parseBody(startBody, req);
        const me = principal(res);
        const input = await startDeployment(ctx.store, await ctx.temporal.client(), {
          model: body.model,
          version: body.version,
          deploy: body.deploy,
          requestedBy: me.subject,
          controlQueue: ctx.cfg.queues.control,
        });
        await ctx.audit(req, res, {
          action: 'deployment.request',
          object: { type: 'deployment', id: input.deploymentId },
          details: { model: input.model, version: input.version, strategy: input.deploy.strategy },
        });
        res.status(202).json({ id: input.deploymentId, model: input.model, version: input.version });
      },
    },
    ...OVERRIDE_ACTIONS.map(overrideRoute),
  ];
}
