// Monitoring of a model: its latest drift report and history, each window's HTML report, pause
// and resume of its monitoring schedule, and labels sent as feedback. The reports are written
// by the monitorModel workflow (activities/monitoring.ts); these routes only read them, move the
// schedule and store labels.
import { z } from 'zod';
import { feedbackBodySchema, saveFeedback } from '../../lib/monitoring/feedback';
import { describeMonitorSchedule, setMonitorSchedulePaused } from '../../lib/monitoring/schedule';
import { readArtifact } from '../../lib/store/artifacts';
import { getModel } from '../../lib/store/models';
import {
  getMonitoringReport,
  listMonitoringReports,
  reportId,
  type MonitoringReportDoc,
} from '../../lib/store/monitoring';
import { principal } from '../auth';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { RouteDef } from '../route';
import { MODEL_NAME_RE, parseBody, parseQuery, pathParam, q } from '../validation';
import { problemResponses } from './schemas';

const nameParam = { name: 'name', description: 'Model name', pattern: MODEL_NAME_RE.source };
const WINDOW_RE = /^(latest|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/;
const windowParam = {
  name: 'window',
  description: "The window's end (RFC 3339 in UTC with milliseconds, as in the report's window.to) or `latest`",
  pattern: WINDOW_RE.source,
};
const historyQuery = z.object({ limit: q.limit(500, 50) }).strict();
const pauseBody = z.object({ note: z.string().max(500).optional() }).strict();

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

const reportSchema = {
  type: 'object',
  description:
    'One window: per feature the deciding method, score, threshold, every statistic, missing and out-of-range rates and both histograms; the prediction column; the dataset verdict; quality from feedback',
};

export function monitoringRoutes(ctx: ApiContext): RouteDef[] {
  const mustModel = async (name: string) => {
    if (!(await getModel(ctx.store, name)))
      throw problems.notFound(`No model ${name}. List models with GET /v1/models.`);
  };
  const schedulePaused = async (
    req: Parameters<RouteDef['handler']>[0],
    res: Parameters<RouteDef['handler']>[1],
    paused: boolean
  ) => {
    const name = pathParam(req, 'name', MODEL_NAME_RE, 'Model name');
    const body = parseBody(pauseBody, req);
    const me = principal(res);
    const note = body.note ?? `${paused ? 'paused' : 'resumed'} by ${me.subject}`;
    const found = await setMonitorSchedulePaused(await ctx.temporal.client(), name, paused, note);
    if (!found) {
      throw problems.notFound(
        `Model ${name} has no monitoring schedule; set a policy with a "monitor" section (PUT /v1/models/${name}/policy) first.`
      );
    }
    await ctx.audit(req, res, {
      action: paused ? 'model.monitor.pause' : 'model.monitor.resume',
      object: { type: 'model', id: name },
      details: { note },
    });
    res.json({ model: name, paused, note });
  };

  return [
    {
      method: 'get',
      path: '/v1/models/:name/monitoring',
      operationId: 'getModelMonitoring',
      summary: "A model's latest monitoring report, its history (newest first) and its schedule",
      tag: 'monitoring',
      permission: 'read',
      params: [nameParam],
      query: historyQuery,
      responses: {
        200: {
          description: 'Latest report (null before the first window), history rows, schedule state (null: none)',
          schema: {
            type: 'object',
            properties: {
              model: { type: 'string' },
              latest: { ...reportSchema, type: ['object', 'null'] },
              history: { type: 'array', items: { type: 'object' } },
              schedule: { type: ['object', 'null'] },
            },
          },
        },
        ...problemResponses(400, 401, 404),
      },
      async handler(req, res) {
        const name = pathParam(req, 'name', MODEL_NAME_RE, 'Model name');
        const query = parseQuery(historyQuery, req);
        await mustModel(name);
        const reports = await listMonitoringReports(ctx.store, name, query.limit);
        // The schedule is Temporal's; without Temporal the reports still answer.
        const schedule = await ctx.temporal
          .client()
          .then((c) => describeMonitorSchedule(c, name))
          .catch(() => null);
        res.json({
          model: name,
          latest: reports[0] ? reportView(reports[0]) : null,
          history: reports.map(historyView),
          schedule,
        });
      },
    },
    {
      method: 'get',
      path: '/v1/models/:name/monitoring/:window/html',
      operationId: 'getMonitoringReportHtml',
      summary: "A window's HTML report: reference and current histogram per feature (inline SVG)",
      description:
        'Self-contained (no scripts, no external assets) and sent with a Content-Security-Policy that allows none.',
      tag: 'monitoring',
      permission: 'read',
      params: [nameParam, windowParam],
      responses: {
        200: { description: 'The HTML page', contentType: 'text/html', schema: { type: 'string' } },
        ...problemResponses(400, 401, 404),
      },
      async handler(req, res) {
        const name = pathParam(req, 'name', MODEL_NAME_RE, 'Model name');
        const window = pathParam(req, 'window', WINDOW_RE, 'Window');
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
    },
    {
      method: 'post',
      path: '/v1/models/:name/monitoring/pause',
      operationId: 'pauseModelMonitoring',
      summary: "Pause the model's monitoring schedule (windows stop until resumed)",
      tag: 'monitoring',
      permission: 'runs:start',
      params: [nameParam],
      body: pauseBody,
      responses: {
        200: { description: 'Paused', schema: { type: 'object' } },
        ...problemResponses(400, 401, 403, 404, 503),
      },
      handler: (req, res) => schedulePaused(req, res, true),
    },
    {
      method: 'post',
      path: '/v1/models/:name/monitoring/resume',
      operationId: 'resumeModelMonitoring',
      summary: "Resume the model's monitoring schedule",
      tag: 'monitoring',
      permission: 'runs:start',
      params: [nameParam],
      body: pauseBody,
      responses: {
        200: { description: 'Resumed', schema: { type: 'object' } },
        ...problemResponses(400, 401, 403, 404, 503),
      },
      handler: (req, res) => schedulePaused(req, res, false),
    },
    {
      method: 'post',
      path: '/v1/models/:name/feedback',
      operationId: 'sendFeedback',
      summary: 'Send true labels for logged predictions, by inference request id',
      description:
        "Up to 1000 requests per call, one label per row of each request. Monitoring windows join them with the prediction log and report accuracy and macro F1 (classification) or RMSE and MAE (regression) once the policy's monitor.minLabels rows are labelled. Sending a request id again replaces its labels.",
      tag: 'monitoring',
      permission: 'infer',
      params: [nameParam],
      body: feedbackBodySchema,
      responses: {
        200: {
          description: 'Stored',
          schema: {
            type: 'object',
            properties: { accepted: { type: 'integer' }, created: { type: 'integer' }, replaced: { type: 'integer' } },
          },
        },
        ...problemResponses(400, 401, 403, 404, 413, 415),
      },
      async handler(req, res) {
        const name = pathParam(req, 'name', MODEL_NAME_RE, 'Model name');
        const body = parseBody(feedbackBodySchema, req);
        await mustModel(name);
        const result = await saveFeedback(ctx.store, name, body, principal(res).subject);
        await ctx.audit(req, res, {
          action: 'model.feedback',
          object: { type: 'model', id: name },
          details: { requests: result.accepted },
        });
        res.json(result);
      },
    },
  ];
}
