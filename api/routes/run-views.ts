// How runs, events and metric points look in responses: the views, and their zod schemas
// (the OpenAPI document and the CLI's types come from the schemas).
import type { RunEvent } from '../../lib/store/events';
import type { MetricPoint } from '../../lib/store/metrics';
import { z } from 'zod';
import { runSpecSchema } from '../../lib/spec';
import { RUN_STATUSES, type RunDoc } from '../../lib/store/runs';
import { dateTime, passThrough, type WithDates } from './schemas';
import { TASKS } from '../../lib/ml/types';

/**
 * A run summary in the process: the wire type (z.infer of runSummarySchema below) with its
 * date-time fields as the stored Dates, which JSON.stringify writes as RFC 3339 strings.
 */
export type RunSummary = WithDates<RunSummaryJson, 'createdAt' | 'updatedAt' | 'startedAt' | 'endedAt'>;

export function runSummary(doc: RunDoc): RunSummary {
  return {
    runId: doc._id,
    status: doc.status,
    stage: doc.stage,
    model: { name: doc.model, version: doc.registered?.version ?? null },
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    ...(doc.startedAt ? { startedAt: doc.startedAt } : {}),
    ...(doc.endedAt ? { endedAt: doc.endedAt } : {}),
    ...(doc.durationMs !== undefined ? { durationMs: doc.durationMs } : {}),
    ...(doc.createdBy ? { createdBy: doc.createdBy } : {}),
    ...(doc.task ? { task: doc.task } : {}),
    ...(doc.metrics ? { metrics: doc.metrics } : {}),
  };
}

export function runDetail(doc: RunDoc): Record<string, unknown> {
  const { _id, runId: _r, model: _m, registered: _g, ...rest } = doc;
  void _r;
  void _m;
  void _g;
  return { ...rest, ...runSummary(doc), runId: _id };
}

export function eventView(e: RunEvent): Omit<RunEvent, '_id'> & { id: string } {
  const { _id, ...rest } = e;
  return { id: _id, ...rest };
}

export function metricView(p: MetricPoint): Omit<MetricPoint, '_id' | 'runId'> {
  const { _id: _i, runId: _r, ...rest } = p;
  void _i;
  void _r;
  return rest;
}

const failure = z.object({ message: z.string(), type: z.string().optional(), stage: z.string().optional() });

export const runSummarySchema = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  stage: z.string().describe('Current or last stage, e.g. ingest, train, awaiting_approval, done'),
  model: z.object({ name: z.string(), version: z.number().int().nullable().describe('Set once registered') }),
  createdAt: dateTime,
  updatedAt: dateTime,
  startedAt: dateTime.optional(),
  endedAt: dateTime.optional(),
  durationMs: z.number().optional(),
  createdBy: z.string().optional().describe('Subject of the token that started the run'),
  task: z.enum(TASKS).optional(),
  metrics: passThrough('Evaluation summary').optional(),
});
export type RunSummaryJson = z.infer<typeof runSummarySchema>;

const pendingApprovalSchema = z.object({ version: z.number().int(), deadline: dateTime }).passthrough();
/** The workflow's `status` query (workflows/messages.ts PipelineStatus), as much as clients read. */
const liveSchema = z
  .object({
    status: z.enum(RUN_STATUSES),
    stage: z.string(),
    progress: z.object({ completed: z.number().int(), total: z.number().int(), fraction: z.number() }),
    pendingApproval: pendingApprovalSchema.nullable(),
    version: z.number().int().nullable(),
    reason: z.string().nullable(),
  })
  .passthrough();

/** lib/workflow-safe/lifecycle.ts RetrainTrigger: what started a retraining run. */
const triggerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('schedule'), scheduleId: z.string(), at: dateTime }),
  z.object({ kind: z.literal('data'), dataset: z.string(), sha256: z.string(), at: dateTime }),
  z.object({
    kind: z.literal('commit'),
    repository: z.string(),
    branch: z.string(),
    sha: z.string(),
    deliveryId: z.string(),
    at: dateTime,
  }),
  z.object({
    kind: z.literal('drift'),
    reportId: z.string().describe('The monitoring report over threshold'),
    at: dateTime,
  }),
]);

export const runDetailSchema = runSummarySchema.extend({
  spec: runSpecSchema.describe('The validated run spec, defaults filled in'),
  dataset: passThrough('Fingerprint of the ingested dataset: sha256, rows, bytes, format, source').optional(),
  champion: passThrough('The production version compared against').nullable().optional(),
  gate: z
    .object({
      passed: z.boolean(),
      reason: z.string(),
      checks: z.array(z.unknown()),
      heldOut: z
        .object({
          basis: z
            .enum(['unseen', 'test-split'])
            .describe(
              'unseen: test rows the champion was not trained on; test-split: the whole split (its training rows unknown)'
            ),
          rows: z.number().int().describe('Rows both models were scored on'),
          excludedRows: z.number().int().describe('Test rows left out because the champion was trained on them'),
        })
        .optional()
        .describe('Which rows the champion comparison used; absent without a champion'),
    })
    .optional(),
  approval: z
    .object({ decision: z.string(), approver: z.string(), comment: z.string().optional(), at: dateTime })
    .nullable()
    .optional(),
  pendingApproval: pendingApprovalSchema.nullable().optional(),
  optimisation: passThrough('Hyperparameter search summary').optional(),
  promotion: passThrough('Alias moves the run made').optional(),
  training: z
    .object({
      epochsRun: z.number().int().nullable().optional(),
      resumedFromEpoch: z.number().int().optional(),
      bestEpoch: z.number().int().nullable().optional(),
    })
    .describe('Training summary; epochsRun and bestEpoch are null when a command trainer did not report them')
    .optional(),
  error: failure.nullable().optional(),
  triggers: z
    .array(triggerSchema)
    .optional()
    .describe("What started the run, when the model's lifecycle workflow did (the triggers coalesced into it)"),
  live: liveSchema
    .nullable()
    .describe('Live state from the workflow `status` query while the run is open; null when closed or unreachable'),
});
export type RunDetailJson = z.infer<typeof runDetailSchema>;

export const eventSchema = z.object({
  id: z.string(),
  runId: z.string(),
  step: z.string(),
  attempt: z.number().int(),
  status: z.enum(['started', 'completed', 'failed']),
  queue: z.string().optional(),
  worker: z.string().optional().describe('host/pid of the worker that ran the attempt'),
  region: z.string().optional().describe("The worker's region ('' = the default fleet)"),
  startedAt: dateTime,
  endedAt: dateTime.optional(),
  durationMs: z.number().optional(),
  error: z.object({ message: z.string(), type: z.string().optional(), retryable: z.boolean().optional() }).optional(),
  details: passThrough('What the step reported').optional(),
});
export type RunEventJson = z.infer<typeof eventSchema>;

export const metricPointSchema = z.object({
  series: z.string(),
  step: z.number().int(),
  values: z.record(z.number()),
  attempt: z.number().int().optional(),
  at: dateTime,
});
export type MetricPointJson = z.infer<typeof metricPointSchema>;
