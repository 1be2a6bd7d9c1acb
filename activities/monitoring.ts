// CPU queue: one monitoring window of one model. Merges the drift sketches the inference servers
// wrote for the window's time buckets (every answered request, on the reference profile's bins:
// a few small documents read by _id, whatever the traffic), joins the labels sent as feedback
// with the sampled prediction log, and writes the report document, its HTML artifact,
// Prometheus gauges and an audit entry; a drifted window whose policy says retrain.onDrift
// signals the model's lifecycle workflow. The report's id is the model and the window's end, so
// a retry or a re-fired schedule rewrites the same report (the lifecycle workflow coalesces a
// repeated drift trigger by its id).
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { signalRetrainTrigger } from '../lib/lifecycle/trigger';
import { thresholdsOf } from '../lib/monitoring/drift';
import { publishWindowGauges } from '../lib/monitoring/gauges';
import { renderReportHtml } from '../lib/monitoring/html';
import { QualityAccumulator } from '../lib/monitoring/quality';
import { WindowAccumulator } from '../lib/monitoring/window';
import { parseWindowState } from '../lib/monitoring/window-state';
import { OUTPUT_LABEL, OUTPUT_VALUE } from '../lib/ml/export';
import { monitorPolicySchema, type MonitorPolicy } from '../lib/spec/policy';
import { MEDIA, putArtifact } from '../lib/store/artifacts';
import { appendAudit } from '../lib/store/audit';
import type { Store } from '../lib/store/db';
import { readSketches, type DriftSketchDoc } from '../lib/store/drift-sketches';
import { getModel, getModelVersion } from '../lib/store/models';
import {
  ensureMonitoringIndexes,
  feedback,
  getReferenceProfile,
  reportId,
  saveMonitoringReport,
  type MonitoringReportDoc,
} from '../lib/store/monitoring';
import { getModelPolicy } from '../lib/store/policies';
import { createClient } from '../lib/temporal/connection';
import { FAILURE } from '../lib/workflow-safe/failures';
import { PREDICTION_LOG, type PredictionLogEntry } from '../serving/prediction-log';
import type { ActivityDeps } from './common';

/** Feedback documents joined per query. */
const JOIN_BATCH = 500;
/** Bucket documents read at once (point lookups by _id). */
const LOOKUPS = 16;

export interface MonitorWindowInput {
  model: string;
  /** When the window is computed (the workflow's time); the window ends at the last `every` boundary. */
  at: number;
}

export interface MonitorWindowResult {
  reportId: string;
  status: MonitoringReportDoc['status'];
  drifted: boolean;
  rows: number;
  retrainSignalled: boolean;
}

/** The window a time falls in: it ends at the last multiple of `every` (so re-runs agree). */
export function windowOf(at: number, policy: Pick<MonitorPolicy, 'every' | 'window'>): { from: Date; to: Date } {
  const end = Math.floor(at / policy.every) * policy.every;
  return { from: new Date(end - policy.window), to: new Date(end) };
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* called outside an activity (benchmarks) */
  }
}

function warn(message: string, attrs: Record<string, unknown>): void {
  try {
    Context.current().log.warn(message, attrs);
  } catch {
    /* called outside an activity (benchmarks) */
  }
}

/**
 * The version a window judges: the one holding `production` (what serves), else the latest. Not a
 * count over the log: on FerretDB that is a second full scan of the window.
 */
async function servingVersion(store: Pick<Store, 'db'>, model: string): Promise<number | null> {
  const doc = await getModel(store, model);
  return doc?.aliases?.production?.version ?? (doc?.latestVersion || null);
}

function predictionsOf(outputs: unknown): unknown[] | undefined {
  if (!Array.isArray(outputs)) return undefined;
  const t = (outputs as { name?: string; data?: unknown[] }[]).find(
    (o) => o?.name === OUTPUT_LABEL || o?.name === OUTPUT_VALUE
  );
  return Array.isArray(t?.data) ? t.data : undefined;
}

/**
 * Row-id labels a window holds in memory at most (ids of at most 128 characters, labels of at most
 * 256: about 100 MB at worst). Past it, the labels read after the first ROW_LABELS_MAX are left
 * out of that window's quality (never wrong, only fewer labels); a worker warning says how many.
 */
export const ROW_LABELS_MAX = 100_000;

/** The window's log entries of the judged version. */
const inWindow = (model: string, version: number, w: { from: Date; to: Date }) => ({
  model,
  version,
  at: { $gte: w.from, $lt: w.to },
});

/** Pairs the feedback received since the window began with the window's logged predictions. */
async function windowQuality(store: Pick<Store, 'db'>, model: string, version: number, w: { from: Date; to: Date }) {
  const acc = new QualityAccumulator();
  const log = store.db.collection<PredictionLogEntry>(PREDICTION_LOG);
  // By request id: batches of feedback, each joined with the log entries of those requests.
  const cursor = feedback(store.db).find(
    { model, at: { $gte: w.from }, rowId: { $exists: false } },
    { batchSize: JOIN_BATCH }
  );
  let batch: { requestId?: string; labels: (string | number)[] }[] = [];
  const join = async () => {
    const labels = new Map(batch.map((b) => [b.requestId!, b.labels]));
    const entries = log.find(
      { ...inWindow(model, version, w), requestId: { $in: [...labels.keys()] } },
      { projection: { requestId: 1, outputs: 1 } }
    );
    for await (const e of entries) {
      const predicted = predictionsOf(e.outputs);
      labels.get(e.requestId)?.forEach((truth, i) => acc.add(truth, predicted?.[i]));
    }
    batch = [];
  };
  for await (const f of cursor) {
    batch.push(f);
    if (batch.length >= JOIN_BATCH) await join();
  }
  if (batch.length) await join();
  await joinRowLabels(store, model, version, w, acc);
  return acc;
}

/**
 * By row id: the window's row labels in a Map (at most ROW_LABELS_MAX), then one pass over the
 * window's log entries that carry row ids. A row predicted more than once in the window is paired
 * once, with the first entry read.
 */
async function joinRowLabels(
  store: Pick<Store, 'db'>,
  model: string,
  version: number,
  w: { from: Date; to: Date },
  acc: QualityAccumulator
): Promise<void> {
  const labels = new Map<string, string | number>();
  let skipped = 0;
  const rows = feedback(store.db).find(
    { model, at: { $gte: w.from }, rowId: { $exists: true } },
    { batchSize: JOIN_BATCH, projection: { rowId: 1, labels: 1 } }
  );
  for await (const f of rows) {
    if (labels.size < ROW_LABELS_MAX) labels.set(f.rowId!, f.labels[0]);
    else skipped++;
  }
  if (skipped) warn('row labels over the window limit left out of quality', { model, skipped, limit: ROW_LABELS_MAX });
  if (labels.size === 0) return;
  const entries = store.db
    .collection<PredictionLogEntry>(PREDICTION_LOG)
    .find({ ...inWindow(model, version, w), rowIds: { $exists: true } }, { projection: { rowIds: 1, outputs: 1 } });
  for await (const e of entries) {
    const predicted = predictionsOf(e.outputs);
    e.rowIds?.forEach((id, i) => {
      const truth = labels.get(id);
      if (truth === undefined) return;
      labels.delete(id);
      acc.add(truth, predicted?.[i]);
    });
  }
}

/** Adds every server's state of every bucket; a state that does not fit the profile fails the window. */
function mergeSketches(acc: WindowAccumulator, docs: DriftSketchDoc[]): void {
  for (const doc of docs) {
    for (const [server, text] of Object.entries(doc.servers ?? {})) {
      try {
        acc.merge(parseWindowState(text));
      } catch (err) {
        throw ApplicationFailure.create({
          nonRetryable: true,
          type: FAILURE.DriftSketchMismatch,
          message: `drift sketch ${doc._id} of server ${server} cannot be merged: ${(err as Error).message}; delete that document from drift_sketches (or wait until it expires) to compute the window without it`,
        });
      }
    }
  }
}

export interface MonitoringDeps extends ActivityDeps {
  /** Temporal client for the drift trigger; default one made from the config on first use. */
  temporal?: () => Promise<Client>;
}

export function createMonitoringActivities(deps: MonitoringDeps) {
  let client: Promise<Client> | undefined;
  const temporal = () => (deps.temporal ? deps.temporal() : (client ??= createClient(deps.cfg)));
  let indexed: Promise<void> | undefined;

  return {
    async monitorWindow(input: MonitorWindowInput): Promise<MonitorWindowResult> {
      const { store } = deps;
      await (indexed ??= ensureMonitoringIndexes(store.db).catch((err) => {
        indexed = undefined;
        throw err;
      }));
      const policyDoc = await getModelPolicy(store, input.model);
      const monitor = policyDoc?.policy.monitor ?? monitorPolicySchema.parse({});
      const w = windowOf(input.at, monitor);
      const thresholds = thresholdsOf(monitor);
      const version = await servingVersion(store, input.model);
      const versionDoc = version === null ? null : await getModelVersion(store, input.model, version);
      const profile = versionDoc ? await getReferenceProfile(store, versionDoc.runId) : null;
      const base = {
        _id: reportId(input.model, w.to),
        model: input.model,
        version,
        window: w,
        computedAt: new Date(),
        minRows: monitor.minRows,
        thresholds: { ...thresholds },
        html: null,
      };
      let report: MonitoringReportDoc;
      if (!profile?.features) {
        report = {
          ...base,
          status: 'no_reference',
          requests: 0,
          rows: 0,
          features: [],
          prediction: null,
          dataset: null,
          drifted: false,
          quality: null,
        };
      } else {
        const acc = new WindowAccumulator(
          { rows: profile.rows ?? 0, features: profile.features, prediction: profile.prediction ?? null },
          { thresholds, methods: monitor.methods }
        );
        const docs = await readSketches(
          store.db,
          input.model,
          version!,
          w,
          deps.cfg.MLOPS_DRIFT_SKETCH_BUCKET_S * 1000,
          {
            concurrency: LOOKUPS,
            progress: (done, of) => done % LOOKUPS === 0 && heartbeat({ buckets: done, of }),
          }
        );
        mergeSketches(acc, docs);
        heartbeat({ buckets: docs.length, requests: acc.requests, rows: acc.rows });
        const s = acc.summary();
        const enough = s.rows >= monitor.minRows;
        const quality = (await windowQuality(store, input.model, version!, w)).result(monitor.minLabels);
        report = {
          ...base,
          status: enough ? 'ok' : 'insufficient_data',
          requests: s.requests,
          rows: s.rows,
          features: s.features,
          prediction: s.prediction,
          dataset: s.dataset,
          drifted: enough && s.dataset.drifted,
          quality,
        };
      }
      const html = renderReportHtml(report);
      report.html = await putArtifact(store, Buffer.from(html), MEDIA.html, {
        kind: 'monitoring-report',
        model: input.model,
      });
      await saveMonitoringReport(store, report);

      if (deps.registry) await publishWindowGauges(deps.registry, report);

      const onDrift = report.drifted && policyDoc?.policy.retrain?.onDrift === true;
      if (onDrift) {
        await signalRetrainTrigger(
          await temporal(),
          { model: input.model, taskQueue: deps.cfg.queues.control },
          { kind: 'drift', reportId: report._id, at: report.computedAt.toISOString() }
        );
      }
      await appendAudit(store, {
        actor: null,
        action: 'model.monitor',
        object: { type: 'monitoring_report', id: report._id },
        outcome: 'ok',
        details: {
          model: input.model,
          version,
          status: report.status,
          rows: report.rows,
          drifted: report.drifted,
          driftedColumns: report.dataset?.driftedColumns ?? 0,
          retrainSignalled: onDrift,
        },
      });
      return {
        reportId: report._id,
        status: report.status,
        drifted: report.drifted,
        rows: report.rows,
        retrainSignalled: onDrift,
      };
    },
  };
}
