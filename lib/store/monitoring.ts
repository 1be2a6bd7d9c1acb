// Monitoring's collections.
//   `reference_profiles`  one per training run (_id = runId): the training split's feature
//                         profile (written by the features step) and the test split's prediction
//                         profile (written by evaluate). Keyed by run because the version number
//                         is allocated later; a version finds its profile through its runId.
//   `monitoring_reports`  one per model and window end (_id = "<model>:<window end ISO>"), so a
//                         window computed twice (a retried activity, a re-fired schedule) replaces
//                         its own report instead of adding one.
//   `feedback`            labels sent after the fact, one per (model, request id) or (model, row id).
import type { Collection, Db } from 'mongodb';
import type { ColumnDrift } from '../monitoring/drift';
import type { ColumnProfile } from '../monitoring/profile';
import type { ArtifactRef } from './artifacts';
import type { Store } from './db';

export const REFERENCE_PROFILES = 'reference_profiles';
export const MONITORING_REPORTS = 'monitoring_reports';
export const FEEDBACK = 'feedback';

export interface ReferenceProfileDoc {
  _id: string;
  runId: string;
  rows?: number;
  features?: ColumnProfile[];
  /** null: the model's outputs were not profiled (none logged on the test split). */
  prediction?: ColumnProfile | null;
  predictionRows?: number;
  updatedAt: Date;
}

export interface MonitoringReportDoc {
  _id: string;
  model: string;
  /** The version whose answered requests the window read (the one holding production, else the latest). */
  version: number | null;
  window: { from: Date; to: Date };
  computedAt: Date;
  /** ok: compared; insufficient_data: fewer than minRows; no_reference: the version has no profile. */
  status: 'ok' | 'insufficient_data' | 'no_reference';
  requests: number;
  rows: number;
  minRows: number;
  features: ColumnDrift[];
  prediction: ColumnDrift | null;
  dataset: { columns: number; driftedColumns: number; share: number; driftShare: number; drifted: boolean } | null;
  drifted: boolean;
  thresholds: Record<string, number>;
  quality: Record<string, number> | null;
  html: ArtifactRef | null;
}

/** Labels of one request (`requestId`) or of one row (`rowId`, one label): lib/monitoring/feedback.ts. */
export interface FeedbackDoc {
  _id: string;
  model: string;
  requestId?: string;
  rowId?: string;
  /** One label per logged row of the request, in order; the row's one label. */
  labels: (string | number)[];
  at: Date;
  by: string;
}

export function referenceProfiles(db: Db): Collection<ReferenceProfileDoc> {
  return db.collection<ReferenceProfileDoc>(REFERENCE_PROFILES);
}
export function monitoringReports(db: Db): Collection<MonitoringReportDoc> {
  return db.collection<MonitoringReportDoc>(MONITORING_REPORTS);
}
export function feedback(db: Db): Collection<FeedbackDoc> {
  return db.collection<FeedbackDoc>(FEEDBACK);
}

export async function ensureMonitoringIndexes(db: Db): Promise<void> {
  await monitoringReports(db).createIndex({ model: 1, 'window.to': -1 }, { name: 'model_window' });
  await feedback(db).createIndex({ model: 1, at: -1 }, { name: 'model_at' });
}

/** Sets one part of a run's profile (idempotent: a retry writes the same fields again). */
export async function saveReferenceProfile(
  store: Pick<Store, 'db'>,
  runId: string,
  part: Pick<ReferenceProfileDoc, 'rows' | 'features'> | Pick<ReferenceProfileDoc, 'prediction' | 'predictionRows'>
): Promise<void> {
  await referenceProfiles(store.db).updateOne(
    { _id: runId },
    { $set: { ...part, runId, updatedAt: new Date() } },
    { upsert: true }
  );
}

export async function getReferenceProfile(
  store: Pick<Store, 'db'>,
  runId: string
): Promise<ReferenceProfileDoc | null> {
  return referenceProfiles(store.db).findOne({ _id: runId });
}

export function reportId(model: string, windowEnd: Date): string {
  return `${model}:${windowEnd.toISOString()}`;
}

export async function saveMonitoringReport(store: Pick<Store, 'db'>, report: MonitoringReportDoc): Promise<void> {
  await monitoringReports(store.db).replaceOne({ _id: report._id }, report, { upsert: true });
}

export async function getMonitoringReport(store: Pick<Store, 'db'>, id: string): Promise<MonitoringReportDoc | null> {
  return monitoringReports(store.db).findOne({ _id: id });
}

/** A model's reports, newest window first. */
export async function listMonitoringReports(
  store: Pick<Store, 'db'>,
  model: string,
  limit: number
): Promise<MonitoringReportDoc[]> {
  return monitoringReports(store.db)
    .find({ model })
    .sort({ 'window.to': -1 })
    .limit(Math.min(Math.max(limit, 1), 500))
    .toArray();
}
