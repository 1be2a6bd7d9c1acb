// `metrics`: per-epoch (or per-round) series of a run, one document per (run, series, step)
// (_id = "<runId>:<series>:<step>") so a resumed training attempt overwrites, never duplicates.
import type { Collection, Db } from 'mongodb';
import type { Store } from './db';

export const METRICS = 'metrics';

export interface MetricPoint {
  _id: string;
  runId: string;
  /** e.g. "train" for epoch metrics. */
  series: string;
  step: number;
  values: Record<string, number>;
  attempt?: number;
  at: Date;
}

export function metricsCollection(db: Db): Collection<MetricPoint> {
  return db.collection<MetricPoint>(METRICS);
}

export async function ensureMetricIndexes(db: Db): Promise<void> {
  await metricsCollection(db).createIndex({ runId: 1, series: 1, step: 1 }, { name: 'run_series_step' });
}

export async function recordMetric(
  store: Pick<Store, 'db'>,
  p: { runId: string; series: string; step: number; values: Record<string, number>; attempt?: number }
): Promise<void> {
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(p.values)) if (Number.isFinite(v)) values[k] = v;
  await metricsCollection(store.db).updateOne(
    { _id: `${p.runId}:${p.series}:${p.step}` },
    { $set: { runId: p.runId, series: p.series, step: p.step, values, attempt: p.attempt, at: new Date() } },
    { upsert: true }
  );
}

/** A run's metric points ordered by series then step. */
export async function getRunMetrics(store: Pick<Store, 'db'>, runId: string, series?: string): Promise<MetricPoint[]> {
  return metricsCollection(store.db)
    .find(series ? { runId, series } : { runId })
    .sort({ series: 1, step: 1 })
    .limit(100_000)
    .toArray();
}
