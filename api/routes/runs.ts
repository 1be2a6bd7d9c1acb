// Pipeline runs over HTTP: start (with Idempotency-Key), list (filters, cursor), show (stored
// history merged with the workflow's live `status` query), events, metrics, approval and cancel.
// Handlers parse (the declaration), authorise (the role; policies in the commands), run a
// command from api/commands/ (the only writers) and present its result.
import { z } from 'zod';
import { runSpecSchema } from '../../lib/spec';
import { eventId } from '../../lib/store/events';
import { getRunMetrics } from '../../lib/store/metrics';
import { RUN_STATUSES, TERMINAL_STATUSES } from '../../lib/store/runs';
import { callerOf } from '../commands/caller';
import { cancelRun } from '../commands/cancel-run';
import { decideRun } from '../commands/decide-run';
import { effectiveStatus, mustGetRun } from '../commands/run-lookup';
import { startRun } from '../commands/start-run';
import type { ApiContext } from '../context';
import { acceptedStart, idempotencyHeader, idempotencyOf } from '../idempotency';
import { liveState } from '../pipeline';
import { defineRoute, type RouteDef } from '../route';
import { RunReader } from '../run-reads';
import { encodeCursor, ID_RE, MODEL_NAME_RE, offsetPage, ordered, param, q } from '../validation';
import { eventSchema, metricPointSchema, metricView, runDetail, runDetailSchema, runSummarySchema } from './run-views';
import { pageOf, problemResponses } from './schemas';

const STAGE_RE = /^[a-z][a-z0-9_-]{0,39}$/;

const listQuery = ordered(
  z
    .object({
      status: z.enum(RUN_STATUSES).optional(),
      model: q.id(MODEL_NAME_RE),
      stage: z.string().regex(STAGE_RE, 'a stage name, e.g. train').optional(),
      from: q.date().describe('createdAt at or after this time (before `to` when both are given)'),
      to: q.date().describe('createdAt before this time'),
      limit: q.limit(100, 20),
      cursor: q.cursor(z.tuple([z.number().int(), z.string().regex(ID_RE)])),
    })
    .strict(),
  'from',
  'to'
);

const eventsQuery = z
  .object({ limit: q.limit(1000, 200), cursor: q.cursor(z.object({ skip: z.number().int().min(0).max(10_000_000) })) })
  .strict();
const metricsQuery = z
  .object({
    series: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,40}$/)
      .optional(),
  })
  .strict();

export const approvalBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    comment: z.string().max(2000).optional(),
  })
  .strict();

const cancelBody = z.object({ reason: z.string().max(500).optional() }).strict();

const startedRunSchema = z.object({ runId: z.string(), status: z.literal('running'), location: z.string() });
export type StartedRunJson = z.infer<typeof startedRunSchema>;
const decisionSchema = z.object({ runId: z.string(), decision: approvalBody.shape.decision, approver: z.string() });
export type DecisionJson = z.infer<typeof decisionSchema>;

const runParams = z.object({ id: param.id(ID_RE, 'Run id (= workflow id)') });
const runLink = { getRun: { operationId: 'getRun', parameters: { id: '$response.body#/runId' } } };

export function runRoutes(ctx: ApiContext, runCacheMs = 2_000): RouteDef[] {
  const reader = new RunReader(ctx.store, runCacheMs);
  return [
    defineRoute({
      method: 'post',
      path: '/v1/runs',
      operationId: 'startRun',
      summary: 'Start a pipeline run',
      description:
        'The body is the run spec (docs/run-spec.md); the smallest is {"model","dataset","target"}. With an Idempotency-Key, repeating the request returns the same run (header Idempotent-Replayed: true); the same key with a different body is a 422.',
      tag: 'runs',
      permission: 'runs:start',
      body: runSpecSchema,
      headers: [idempotencyHeader('run')],
      responses: {
        202: {
          description: 'Accepted: the run is starting',
          schema: startedRunSchema,
          headers: { Location: '/v1/runs/{runId}', 'Idempotent-Replayed': 'true on a replay' },
          links: runLink,
        },
        ...problemResponses(422, 503),
      },
      async handler({ body }, req, res) {
        const { runId, replayed } = await startRun(ctx, reader, callerOf(ctx, req, res), {
          spec: body,
          idempotency: idempotencyOf(req),
        });
        acceptedStart(res, `/v1/runs/${runId}`, replayed, { runId, status: 'running' });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/runs',
      operationId: 'listRuns',
      summary: 'List runs, newest first',
      tag: 'runs',
      permission: 'read',
      query: listQuery,
      responses: { 200: { description: 'A page of runs', schema: pageOf(runSummarySchema) } },
      async handler({ query }, _req, res) {
        const page = await reader.list({ ...query, cursor: query.cursor && encodeCursor(query.cursor) });
        res.json(page);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/runs/:id',
      operationId: 'getRun',
      summary: 'Show a run: stored history merged with live workflow state',
      tag: 'runs',
      permission: 'read',
      params: runParams,
      responses: { 200: { description: 'The run', schema: runDetailSchema }, ...problemResponses(404) },
      async handler({ params: { id: runId } }, _req, res) {
        const doc = await mustGetRun(ctx, runId);
        let live: Record<string, unknown> | null = null;
        if (!TERMINAL_STATUSES.includes(doc.status)) {
          try {
            const client = await ctx.temporal.client();
            const state = await liveState(client, runId);
            if (state.found) live = state.live;
          } catch {
            live = null; // Temporal down: answer from MongoDB
          }
        }
        const view = runDetail(doc);
        const stage = typeof live?.stage === 'string' ? live.stage : doc.stage;
        res.json({ ...view, status: effectiveStatus(doc, live), stage, live });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/runs/:id/events',
      operationId: 'listRunEvents',
      summary: 'Step events of a run (attempts, durations, errors), in start order',
      tag: 'runs',
      permission: 'read',
      params: runParams,
      query: eventsQuery,
      responses: {
        200: { description: 'A page of events', schema: pageOf(eventSchema) },
        ...problemResponses(404),
      },
      async handler({ params: { id: runId }, query }, _req, res) {
        const all = await reader.events(await mustGetRun(ctx, runId));
        const page = await offsetPage(query, async (limit, skip) => all.slice(skip, skip + limit));
        const items = page.items.map((e) => ({ id: eventId(e.runId, e.step, e.attempt), ...e }));
        res.json({ items, nextCursor: page.nextCursor });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/runs/:id/metrics',
      operationId: 'listRunMetrics',
      summary: 'Metric series of a run (per epoch or round)',
      tag: 'runs',
      permission: 'read',
      params: runParams,
      query: metricsQuery,
      responses: {
        200: {
          description: 'Points ordered by series, then step',
          schema: z.object({ items: z.array(metricPointSchema) }),
        },
        ...problemResponses(404),
      },
      async handler({ params: { id: runId }, query }, _req, res) {
        const points = await getRunMetrics(ctx.store, runId, query.series);
        if (points.length === 0) await mustGetRun(ctx, runId);
        res.json({ items: points.map(metricView) });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/runs/:id/approval',
      operationId: 'decideRun',
      summary: 'Approve or reject a run waiting for approval',
      description:
        'The approver is the subject of the token, never a body field. Four eyes: the subject that started the run may not decide on it (403). The API signs the decision and the workflow checks it again before taking it; 409 when the workflow refuses it.',
      tag: 'runs',
      permission: 'runs:approve',
      params: runParams,
      body: approvalBody,
      responses: {
        202: { description: 'Decision taken by the workflow', schema: decisionSchema, links: runLink },
        ...problemResponses(404, 409, 503),
      },
      async handler({ params: { id: runId }, body }, req, res) {
        res.status(202).json(await decideRun(ctx, callerOf(ctx, req, res), { runId, ...body }));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/runs/:id/cancel',
      operationId: 'cancelRun',
      summary: 'Cancel a run',
      description: 'Scientists may cancel runs they started; admins any run. The body is optional.',
      tag: 'runs',
      permission: 'runs:cancel',
      params: runParams,
      body: cancelBody,
      bodyOptional: true,
      responses: {
        202: { description: 'Cancellation requested', schema: z.object({ runId: z.string() }), links: runLink },
        ...problemResponses(404, 409, 503),
      },
      async handler({ params: { id: runId }, body }, req, res) {
        await cancelRun(ctx, callerOf(ctx, req, res), { runId, reason: body.reason });
        res.status(202).json({ runId });
      },
    }),
  ];
}
