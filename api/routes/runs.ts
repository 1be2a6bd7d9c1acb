// Pipeline runs: start (with Idempotency-Key), list (filters, cursor), show (stored history
// merged with the workflow's live `status` query), events, metrics, approval (four eyes:
// the subject that started a run may not decide on it) and cancel (a scientist may cancel
// only the runs they started; admin any).
import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { z } from 'zod';
import { runSpecSchema, type RunSpec } from '../../lib/spec';
import { ResidencyError, runRegion } from '../../lib/spec/residency';
import type { Config } from '../../lib/config';
import { eventId, runEvents } from '../../lib/store/events';
import { getRunMetrics } from '../../lib/store/metrics';
import { createRun, getRun, RUN_STATUSES, runs, TERMINAL_STATUSES, updateRun, type RunDoc } from '../../lib/store/runs';
import { principal } from '../auth';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { idempotencyHeader, idempotentId } from '../idempotency';
import type { MetricsSnapshot } from '../metrics';
import { cached } from '../metrics';
import { RunReader } from '../run-reads';
import {
  ApprovalRefusedError,
  cancelPipeline,
  decideApproval,
  isNotFound,
  liveState,
  startPipeline,
} from '../pipeline';
import { vouch } from '../../lib/crypto/approval-voucher';
import { defineRoute, type RouteDef } from '../route';
import { encodeCursor, ID_RE, MODEL_NAME_RE, param, q } from '../validation';
import { eventSchema, metricPointSchema, metricView, runDetail, runDetailSchema, runSummarySchema } from './run-views';
import { pageOf, problemResponses } from './schemas';
import { regionQueues } from '../../lib/temporal/queues';

const STAGE_RE = /^[a-z][a-z0-9_-]{0,39}$/;

const listQuery = z
  .object({
    status: z.enum(RUN_STATUSES).optional(),
    model: q.id(MODEL_NAME_RE),
    stage: z.string().regex(STAGE_RE, 'a stage name, e.g. train').optional(),
    from: q.date().describe('createdAt at or after this time (before `to` when both are given)'),
    to: q.date().describe('createdAt before this time'),
    limit: q.limit(100, 20),
    cursor: q.cursor(z.tuple([z.number().int(), z.string().regex(ID_RE)])),
  })
  .strict();

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

/** The spec with the region it runs in (its own, or its dataset's); 422 when it may not run anywhere. */
function withRegion(cfg: Config, spec: RunSpec): RunSpec {
  try {
    const region = runRegion(cfg, spec);
    return region ? { ...spec, region } : spec;
  } catch (err) {
    if (!(err instanceof ResidencyError)) throw err;
    throw problems.unprocessable(`Run refused: ${err.message}.`, {
      errors: [{ path: 'body.region', message: err.message }],
    });
  }
}

export function newRunId(): string {
  return `run-${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
}

async function mustGetRun(ctx: ApiContext, runId: string): Promise<RunDoc> {
  const doc = await getRun(ctx.store, runId);
  if (!doc) throw problems.notFound(`No run ${runId}. List runs with GET /v1/runs.`);
  return doc;
}

/** The live status value when the workflow reports one, else the stored status. */
function effectiveStatus(doc: RunDoc, live: Record<string, unknown> | null): string {
  const s = live?.status;
  return typeof s === 'string' && (RUN_STATUSES as readonly string[]).includes(s) ? s : doc.status;
}

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
        const spec = withRegion(ctx.cfg, body);
        const me = principal(res);

        const {
          id: runId,
          replayed,
          key,
        } = await idempotentId(ctx, req, me.subject, newRunId(), {
          noun: 'run',
          field: 'runId',
        });

        await createRun(ctx.store, { runId, model: spec.model, spec, createdBy: me.subject });
        await reader.indexCreated(runId);
        const client = await ctx.temporal.client();
        let started: boolean;
        try {
          started = await startPipeline(client, {
            runId,
            spec,
            region: spec.region,
            queues: regionQueues(ctx.cfg.queues, spec.region),
            createdBy: me.subject,
          });
        } catch (err) {
          if (!replayed) {
            await updateRun(ctx.store, runId, {
              status: 'failed',
              stage: 'queued',
              error: { message: 'The workflow could not be started (Temporal unreachable); start the run again.' },
            }).catch(() => undefined);
          }
          ctx.log.error('workflow start failed', { runId, error: err instanceof Error ? err.message : String(err) });
          throw problems.unavailable(
            'Temporal did not accept the run; retry shortly (with the same Idempotency-Key).',
            {
              extra: { cause: 'temporal', runId },
              headers: { 'Retry-After': '5' },
            }
          );
        }
        if (started) {
          ctx.metrics.runsStarted.inc();
          await ctx.audit(req, res, {
            action: 'run.start',
            object: { type: 'run', id: runId },
            details: { model: spec.model, ...(key ? { idempotencyKey: key } : {}) },
          });
        }
        const location = `/v1/runs/${runId}`;
        if (replayed || !started) res.setHeader('Idempotent-Replayed', 'true');
        res.status(202).location(location).json({ runId, status: 'running', location });
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
        if (query.from && query.to && query.from >= query.to) {
          throw problems.badRequest('from must be before to.', {
            errors: [{ path: 'query.from', message: 'after to' }],
          });
        }
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
        const skip = query.cursor?.skip ?? 0;
        const run = await mustGetRun(ctx, runId);
        const all = await reader.events(run);
        const page = all.slice(skip, skip + query.limit);
        const nextCursor = all.length > skip + query.limit ? encodeCursor({ skip: skip + page.length }) : null;
        res.json({ items: page.map((e) => ({ id: eventId(e.runId, e.step, e.attempt), ...e })), nextCursor });
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
        const me = principal(res);
        const doc = await mustGetRun(ctx, runId);
        const action = body.decision === 'approve' ? 'run.approve' : 'run.reject';
        if (doc.createdBy && doc.createdBy === me.subject) {
          await ctx.audit(req, res, {
            action,
            object: { type: 'run', id: runId },
            outcome: 'denied',
            details: { reason: 'four-eyes' },
          });
          throw problems.forbidden(
            `Four eyes: ${me.subject} started run ${runId} and may not ${body.decision} it. Ask another approver.`,
            { extra: { reason: 'four-eyes' } }
          );
        }
        const client = await ctx.temporal.client();
        const state = await liveState(client, runId).catch(() => {
          throw problems.unavailable('Temporal is unreachable; retry shortly.', { extra: { cause: 'temporal' } });
        });
        const status = state.found && state.open ? effectiveStatus(doc, state.live) : doc.status;
        const waiting = state.found && state.open && (status === 'awaiting_approval' || state.live?.pendingApproval);
        if (!waiting) {
          throw problems.conflict(
            `Run ${runId} is ${status}, not awaiting_approval; only a run waiting for approval can be decided.`,
            { extra: { runStatus: status } }
          );
        }
        const keyring = ctx.store.keyring;
        if (!keyring) throw problems.unavailable('The API holds no keyring, so it cannot vouch for the decision.');
        const vouched = vouch(keyring, runId, { decision: body.decision, approver: me.subject, comment: body.comment });
        try {
          await decideApproval(client, runId, vouched);
        } catch (err) {
          if (!(err instanceof ApprovalRefusedError)) throw err;
          throw problems.conflict(`Run ${runId}: ${err.message}.`, { extra: { reason: 'refused-by-workflow' } });
        }
        await ctx.audit(req, res, {
          action,
          object: { type: 'run', id: runId },
          details: { ...(body.comment ? { comment: body.comment } : {}), model: doc.model },
        });
        res.status(202).json({ runId, decision: body.decision, approver: me.subject });
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
        const me = principal(res);
        const doc = await mustGetRun(ctx, runId);
        if (me.role !== 'admin' && doc.createdBy !== me.subject) {
          await ctx.audit(req, res, {
            action: 'run.cancel',
            object: { type: 'run', id: runId },
            outcome: 'denied',
            details: { reason: 'not-owner' },
          });
          throw problems.forbidden(`Run ${runId} was started by someone else; only they or an admin may cancel it.`);
        }
        if (TERMINAL_STATUSES.includes(doc.status)) {
          throw problems.conflict(`Run ${runId} already ended (${doc.status}); there is nothing to cancel.`, {
            extra: { runStatus: doc.status },
          });
        }
        const client = await ctx.temporal.client();
        try {
          await cancelPipeline(client, runId);
        } catch (err) {
          if (isNotFound(err)) {
            throw problems.conflict(`Run ${runId} is not running any more; there is nothing to cancel.`);
          }
          throw err;
        }
        await ctx.audit(req, res, {
          action: 'run.cancel',
          object: { type: 'run', id: runId },
          details: body.reason ? { reason: body.reason } : undefined,
        });
        res.status(202).json({ runId });
      },
    }),
  ];
}

/** Runs by status and completed-stage totals for /metrics, read at most every `ttlMs`. */
export function runsSnapshot(db: Db, ttlMs: number): () => Promise<MetricsSnapshot> {
  return cached(async () => {
    // Two pipelines, not one $group with two $sum accumulators: FerretDB v1 returns 0 for
    // a second $sum in the same $group.
    const [byStatus, stageCounts, stageMs] = await Promise.all([
      runs(db)
        .aggregate<{ _id: string; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }])
        .toArray(),
      runEvents(db)
        .aggregate<{ _id: string; n: number }>([
          { $match: { status: 'completed' } },
          { $group: { _id: '$step', n: { $sum: 1 } } },
        ])
        .toArray(),
      runEvents(db)
        .aggregate<{ _id: string; ms: number }>([
          { $match: { status: 'completed' } },
          { $group: { _id: '$step', ms: { $sum: '$durationMs' } } },
        ])
        .toArray(),
    ]);
    const msByStep = new Map(stageMs.map((s) => [s._id, s.ms]));
    const stages = stageCounts.map((s) => ({ ...s, ms: msByStep.get(s._id) ?? 0 }));
    const runsByStatus: Record<string, number> = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0]));
    for (const r of byStatus) if (typeof r._id === 'string') runsByStatus[r._id] = r.n;
    const stageTotals: MetricsSnapshot['stages'] = {};
    for (const s of stages)
      if (typeof s._id === 'string') stageTotals[s._id] = { count: s.n, seconds: (s.ms ?? 0) / 1000 };
    return { runsByStatus, stages: stageTotals };
  }, ttlMs);
}
