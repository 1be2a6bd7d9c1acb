// How runs, events and metric points look in responses, and their OpenAPI schemas.
import type { RunEvent } from '../../lib/store/events';
import type { MetricPoint } from '../../lib/store/metrics';
import { RUN_STATUSES, type RunDoc } from '../../lib/store/runs';
import type { JsonSchema } from '../zod-json-schema';

export interface RunSummary {
  runId: string;
  status: string;
  stage: string;
  model: { name: string; version: number | null };
  createdAt: Date;
  updatedAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  durationMs?: number;
  createdBy?: string;
  task?: string;
  metrics?: Record<string, unknown>;
}

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

const date = { type: 'string', format: 'date-time' };

export const runSummarySchema: JsonSchema = {
  type: 'object',
  required: ['runId', 'status', 'stage', 'model', 'createdAt'],
  properties: {
    runId: { type: 'string' },
    status: { type: 'string', enum: [...RUN_STATUSES] },
    stage: { type: 'string', description: 'Current or last stage, e.g. ingest, train, awaiting_approval, done' },
    model: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        version: { type: ['integer', 'null'], description: 'Set once registered' },
      },
    },
    createdAt: date,
    updatedAt: date,
    startedAt: date,
    endedAt: date,
    durationMs: { type: 'number' },
    createdBy: { type: 'string', description: 'Subject of the token that started the run' },
    task: { type: 'string', enum: ['classification', 'regression'] },
    metrics: { type: 'object', description: 'Evaluation summary' },
  },
};

export const runDetailSchema: JsonSchema = {
  ...runSummarySchema,
  properties: {
    ...(runSummarySchema.properties as object),
    spec: { type: 'object', description: 'The validated run spec, defaults filled in' },
    dataset: { type: 'object' },
    gate: { type: 'object' },
    approval: { type: ['object', 'null'] },
    pendingApproval: { type: ['object', 'null'], properties: { version: { type: 'integer' }, deadline: date } },
    optimisation: { type: 'object' },
    promotion: { type: 'object' },
    training: { type: 'object' },
    error: { type: ['object', 'null'] },
    live: {
      type: ['object', 'null'],
      description: 'Live state from the workflow `status` query while the run is open; null when closed or unreachable',
    },
  },
};

export const eventSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    runId: { type: 'string' },
    step: { type: 'string' },
    attempt: { type: 'integer' },
    status: { type: 'string', enum: ['started', 'completed', 'failed'] },
    queue: { type: 'string' },
    worker: { type: 'string', description: 'host/pid of the worker that ran the attempt' },
    region: { type: 'string', description: "The worker's region ('' = the default fleet)" },
    startedAt: date,
    endedAt: date,
    durationMs: { type: 'number' },
    error: { type: 'object' },
    details: { type: 'object' },
  },
};

export const metricPointSchema: JsonSchema = {
  type: 'object',
  properties: {
    series: { type: 'string' },
    step: { type: 'integer' },
    values: { type: 'object', additionalProperties: { type: 'number' } },
    attempt: { type: 'integer' },
    at: date,
  },
};
