// Monitoring of a model: its latest drift report and history, each window's HTML report, pause
// and resume of its monitoring schedule (api/routes/schedules.ts), and labels sent as
// feedback. The reports are written by the monitorModel workflow (activities/monitoring.ts);
// these routes only read them; moving the schedule and storing labels are commands.
import { z } from 'zod';
import { feedbackBodySchema } from '../../lib/monitoring/feedback';
import { describeMonitorSchedule } from '../../lib/monitoring/schedule';
import { readArtifact } from '../../lib/store/artifacts';
import {
  getMonitoringReport,
  listMonitoringReports,
  reportId,
  type MonitoringReportDoc,
} from '../../lib/store/monitoring';
import { sendFeedback } from '../commands/feedback';
import { mustGetModel } from '../commands/model-lookup';
import type { ApiContext } from '../context';
import { callerOf } from '../commands/caller';
import { problems } from '../errors';
import { defineRoute, type RouteDef } from '../route';
import { MODEL_NAME_RE, param, q } from '../validation';
import { documented, type JsonSchema } from '../zod-json-schema';
import { scheduleStateSchema, schedulePauseRoutes } from './schedules';
import { dateTime, passThrough, problemResponses } from './schemas';
import { COLUMN_TYPES } from '../../lib/ml/types';

const WINDOW_END_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const modelParams = z.object({ name: param.id(MODEL_NAME_RE, 'Model name') });
const windowParams = modelParams.extend({
  window: z
    .union([
      z.literal('latest'),
      z.string().regex(WINDOW_END_RE, 'latest or a window end such as 2026-01-31T12:00:00.000Z'),
    ])
    .describe("The window's end (RFC 3339 in UTC with milliseconds, as in the report's window.to) or `latest`"),
});
const historyQuery = z.object({ limit: q.limit(500, 50) }).strict();
/**
 * The rules zod holds in code, as the document says them: `items` or `rows`, one branch each; and
 * "label or labels, not both" of each item, one branch per form.
 */
const feedbackBody = documented(feedbackBodySchema, (js) => {
  const properties = js.properties as Record<string, JsonSchema>;
  const { items, rows } = properties;
  const item = items.items as JsonSchema & { properties: Record<string, JsonSchema> };
  const { requestId, label, labels } = item.properties;
  const form = (key: string, value: JsonSchema) => ({
    type: 'object',
    properties: { requestId, [key]: value },
    required: ['requestId', key],
    additionalProperties: false,
  });
  const byRequest = { ...items, items: { anyOf: [form('label', label), form('labels', labels)] } };
  const only = (key: string, value: JsonSchema) => ({
    type: 'object',
    properties: { [key]: value },
    required: [key],
    additionalProperties: false,
  });
  return { anyOf: [only('items', byRequest), only('rows', rows)] };
});

/** What a history row shows: enough for a sparkline per feature. */
function historyView(r: MonitoringReportDoc) {
  return {
    id: r._id,
    window: r.window,
    status: r.status,
    version: r.version,
    rows: r.rows,
    drifted: r.drifted,
    driftShare: r.dataset?.share ?? null,
    features: r.features.map((f) => ({ name: f.name, method: f.method, score: f.score, drifted: f.drifted })),
    prediction: r.prediction
      ? { method: r.prediction.method, score: r.prediction.score, drifted: r.prediction.drifted }
      : null,
    quality: r.quality,
  };
}

function reportView(r: MonitoringReportDoc) {
  const { _id, ...rest } = r;
  return { id: _id, ...rest };
}

const DRIFT_METHODS = ['ks', 'chi2', 'z', 'wasserstein', 'jensen_shannon', 'psi'] as const;
const windowSchema = z.object({ from: dateTime, to: dateTime });
const statusSchema = z.enum(['ok', 'insufficient_data', 'no_reference']);
const qualitySchema = z
  .record(z.number())
  .nullable()
  .describe('Accuracy and macro F1, or RMSE and MAE; null: too few labels');
const columnDriftSchema = z
  .object({
    name: z.string(),
    type: z.enum(COLUMN_TYPES),
    method: z.enum(DRIFT_METHODS),
    score: z.number(),
    threshold: z.number(),
    drifted: z.boolean(),
    stats: z.record(z.number()),
    count: z.number().int(),
    missingRate: z.number(),
    referenceMissingRate: z.number(),
    outOfRangeRate: z.number(),
    histogram: z.object({ labels: z.array(z.string()), reference: z.array(z.number()), current: z.array(z.number()) }),
  })
  .describe(
    'The deciding method, score, threshold, every statistic, missing and out-of-range rates and both histograms'
  );
const reportSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    version: z.number().int().nullable(),
    window: windowSchema,
    computedAt: dateTime,
    status: statusSchema,
    requests: z.number().int(),
    rows: z.number().int(),
    minRows: z.number().int(),
    features: z.array(columnDriftSchema),
    prediction: columnDriftSchema.nullable(),
    dataset: z
      .object({
        columns: z.number().int(),
        driftedColumns: z.number().int(),
        share: z.number(),
        driftShare: z.number(),
        drifted: z.boolean(),
      })
      .nullable(),
    drifted: z.boolean(),
    thresholds: z.record(z.number()),
    quality: qualitySchema,
    html: passThrough('The HTML report artifact').nullable(),
  })
  .describe('One window: per feature drift, the prediction column, the dataset verdict, quality from feedback');
const historyRowSchema = z.object({
  id: z.string(),
  window: windowSchema,
  status: statusSchema,
  version: z.number().int().nullable(),
  rows: z.number().int(),
  drifted: z.boolean(),
  driftShare: z.number().nullable(),
  features: z.array(
    z.object({ name: z.string(), method: z.enum(DRIFT_METHODS), score: z.number(), drifted: z.boolean() })
  ),
  prediction: z.object({ method: z.enum(DRIFT_METHODS), score: z.number(), drifted: z.boolean() }).nullable(),
  quality: qualitySchema,
});
const monitoringSchema = z.object({
  model: z.string(),
  latest: reportSchema.nullable().describe('null before the first window'),
  history: z.array(historyRowSchema).describe('Newest first'),
  schedule: scheduleStateSchema.nullable().describe('null: no schedule (or Temporal unreachable)'),
});
export type MonitoringJson = z.infer<typeof monitoringSchema>;
const feedbackSchema = z.object({
  accepted: z.number().int(),
  created: z.number().int(),
  replaced: z.number().int(),
});

export function monitoringRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/models/:name/monitoring',
      operationId: 'getModelMonitoring',
      summary: "A model's latest monitoring report, its history (newest first) and its schedule",
      tag: 'monitoring',
      permission: 'read',
      params: modelParams,
      query: historyQuery,
      responses: {
        200: {
          description: 'Latest report (null before the first window), history rows, schedule state (null: none)',
          schema: monitoringSchema,
        },
        ...problemResponses(404),
      },
      async handler({ params, query }, _req, res) {
        await mustGetModel(ctx, params.name);
        const reports = await listMonitoringReports(ctx.store, params.name, query.limit);
        // The schedule is Temporal's; without Temporal the reports still answer.
        const schedule = await ctx.temporal
          .client()
          .then((c) => describeMonitorSchedule(c, params.name))
          .catch(() => null);
        res.json({
          model: params.name,
          latest: reports[0] ? reportView(reports[0]) : null,
          history: reports.map(historyView),
          schedule,
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/models/:name/monitoring/:window/html',
      operationId: 'getMonitoringReportHtml',
      summary: "A window's HTML report: reference and current histogram per feature (inline SVG)",
      description:
        "Self-contained (no scripts, no external assets) and sent with `Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:`.",
      tag: 'monitoring',
      permission: 'read',
      params: windowParams,
      responses: {
        200: { description: 'The HTML page', contentType: 'text/html', schema: z.string() },
        ...problemResponses(404),
      },
      async handler({ params: { name, window } }, _req, res) {
        const report =
          window === 'latest'
            ? (await listMonitoringReports(ctx.store, name, 1))[0]
            : await getMonitoringReport(ctx.store, reportId(name, new Date(window)));
        if (!report?.html) {
          throw problems.notFound(
            `No monitoring report of ${name} for window ${window}; GET /v1/models/${name}/monitoring lists them.`
          );
        }
        const html = await readArtifact(ctx.store, report.html);
        res
          .set({
            'Content-Type': 'text/html; charset=utf-8',
            'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
          })
          .send(html);
      },
    }),
    ...schedulePauseRoutes(ctx, 'monitor'),
    defineRoute({
      method: 'post',
      path: '/v1/models/:name/feedback',
      operationId: 'sendFeedback',
      summary: 'Send true labels for logged predictions, by inference request id or row id',
      description:
        "Up to 1000 requests per call, one label per row of each request. Monitoring windows join them with the prediction log and report accuracy and macro F1 (classification) or RMSE and MAE (regression) once the policy's monitor.minLabels rows are labelled. Sending a request id again replaces its labels. For a model whose policy names an id column (monitor.idColumn), `rows` labels rows by their id instead (up to 1000 per call; an id sent again replaces its label).",
      tag: 'monitoring',
      permission: 'infer',
      params: modelParams,
      body: feedbackBody,
      responses: { 200: { description: 'Stored', schema: feedbackSchema }, ...problemResponses(404) },
      async handler({ params, body }, req, res) {
        res.json(await sendFeedback(ctx, callerOf(ctx, req, res), params.name, body));
      },
    }),
  ];
}
