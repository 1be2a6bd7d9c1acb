// The traffic split and the per-version serving statistics: the one contract between the rollout
// workflow (which writes `traffic_splits` through its activities) and the inference servers (which
// read it every poll and write `serving_stats`). Both sides live on different machines and restart
// independently, so the state is in MongoDB, never in a process: a restarted server reads the
// current split before it answers, and a restarted worker reads the same numbers the gate used.
import type { Collection, Db } from 'mongodb';

export const TRAFFIC_SPLITS = 'traffic_splits';
export const SERVING_STATS = 'serving_stats';

/**
 * One document per model (_id = model name). No document, or `candidate: null`, means every request
 * goes to the `production` alias as before. `revision` grows by one on every change; servers apply
 * a split only when its revision is higher than the one they hold, so a stale read cannot undo a
 * rollback.
 */
export interface TrafficSplitDoc {
  _id: string;
  /** The version answering the rest of the traffic (the production holder when the rollout began). */
  stable: number;
  /** The version in rollout, or null when none. */
  candidate: number | null;
  /** Percent of callers (0..100) whose requests the candidate answers; ignored in shadow mode. */
  candidateWeight: number;
  /** Shadow: the candidate gets a mirrored copy of every request and its answers are discarded. */
  mode: 'split' | 'shadow';
  revision: number;
  /** The deployment that set this split (null once a rollout has ended). */
  deploymentId: string | null;
  updatedAt: Date;
}

/** Upper bounds (ms) of the latency histogram every server keeps per version; the last is +Inf. */
export const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

/**
 * What one server saw of one version in one window (_id = `${model}:${version}:${server}:${windowStart ms}`),
 * upserted with $inc so a server flushing twice, or several servers, add up exactly.
 */
export interface ServingStatsDoc {
  _id: string;
  model: string;
  version: number;
  /** The server's id (host:port:pid), so stats from several servers can be told apart. */
  server: string;
  /** Start of the window (servers flush every few seconds into fixed windows of STATS_WINDOW_MS). */
  windowStart: Date;
  /** True for answers to mirrored (shadow) requests, which no client saw. */
  shadow: boolean;
  requests: number;
  /** Answers that failed inside the model (5xx), not requests the caller got wrong (4xx). */
  errors: number;
  /** Counts per LATENCY_BOUNDS_MS bucket, plus one for above the last bound. */
  latency: number[];
  /** Prediction distribution: counts per predicted class label, or per value bin for regression. */
  predictions: Record<string, number>;
  /** Shadow only: mirrored answers compared with stable's answer to the same request, and how many agreed. */
  compared?: number;
  agreed?: number;
}

export const STATS_WINDOW_MS = 5_000;

export function trafficSplits(db: Db): Collection<TrafficSplitDoc> {
  return db.collection<TrafficSplitDoc>(TRAFFIC_SPLITS);
}

export function servingStats(db: Db): Collection<ServingStatsDoc> {
  return db.collection<ServingStatsDoc>(SERVING_STATS);
}
