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
 * What one server saw of one version in one window (_id = statsId(): `${model}:${version}:${server}:${windowStart ms}`,
 * plus `:shadow` for mirrored answers), upserted with $inc so a server flushing twice, or several
 * servers, add up exactly. Only requests for a model name (routed by the split) are counted, not
 * pinned /versions/{v} ones; `requests` counts requests that reached the model (answered or failed
 * there), not those refused before it (4xx).
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
  /**
   * Prediction distribution, per row: counts per predicted class label, or per valueBin() for
   * regression. Keys are fieldKey()-escaped.
   */
  predictions: Record<string, number>;
  /** Shadow only: mirrored answers compared with stable's answer to the same request, and how many agreed. */
  compared?: number;
  agreed?: number;
  /**
   * Flush sequence numbers of the server already added in: a flush retried after an unknown
   * outcome (store timeout) is applied once. About STATS_WINDOW_MS / poll interval entries.
   */
  flushes: string[];
}

export const STATS_WINDOW_MS = 5_000;

export function trafficSplits(db: Db): Collection<TrafficSplitDoc> {
  return db.collection<TrafficSplitDoc>(TRAFFIC_SPLITS);
}

export function servingStats(db: Db): Collection<ServingStatsDoc> {
  return db.collection<ServingStatsDoc>(SERVING_STATS);
}

/**
 * Field names in `serving_stats.predictions` and `serving_instances.models` are labels and model
 * names, which may hold '.' or '$' (MongoDB path syntax): those two and '%' are percent-escaped.
 */
export function fieldKey(name: string): string {
  return name.replace(/[%.$]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function fromFieldKey(key: string): string {
  return key.replace(/%(25|2E|24)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Upper bounds of the value bins a regressor's predictions are counted in; the last bin is above them. */
export const PREDICTION_VALUE_BOUNDS = [-1000, -100, -10, -1, 0, 1, 10, 100, 1000, 10000] as const;

/** The `predictions` key of a regressor's value: `le:<bound>` for the first bound it is under, else `gt:10000`. */
export function valueBin(v: number): string {
  const bound = PREDICTION_VALUE_BOUNDS.find((b) => v <= b);
  return bound === undefined ? `gt:${PREDICTION_VALUE_BOUNDS[PREDICTION_VALUE_BOUNDS.length - 1]}` : `le:${bound}`;
}

/** The `serving_stats` _id: shadow answers get a `:shadow` suffix so they never add into live counts. */
export function statsId(model: string, version: number, server: string, windowStart: number, shadow: boolean): string {
  return `${model}:${version}:${server}:${windowStart}${shadow ? ':shadow' : ''}`;
}

/**
 * Which side of a split a caller is on: a stable hash (FNV-1a, 32 bit) of model and caller key,
 * mod 100; the candidate answers when it is below `candidateWeight`. Stable across servers and
 * restarts, so a caller's retries meet the same version on any server.
 */
export function splitBucket(model: string, callerKey: string): number {
  let h = 0x811c9dc5;
  const text = `${model}\u0000${callerKey}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 100;
}

export const SERVING_INSTANCES = 'serving_instances';

/** What one server holds of one model (the value of `ServingInstanceDoc.models[fieldKey(model)]`). */
export interface InstanceModel {
  /** Versions open and signature-verified on this server, ready to answer. */
  loaded: number[];
  /** Revision of the traffic split this server applies (0: none read yet). */
  splitRevision: number;
}

/**
 * One document per inference server process (_id = its server id, as in ServingStatsDoc.server),
 * rewritten after every poll: the rollout gives a candidate traffic only once every live server
 * has it in `loaded` and holds the split's revision. A server that stops cleanly deletes its
 * document; one that dies stops heart-beating and drops out of liveServingInstances.
 */
export interface ServingInstanceDoc {
  _id: string;
  /** Heartbeat: when the server last finished a poll. */
  at: Date;
  /** Poll interval of the server (ms), so readers can tell a late heartbeat from a slow poller. */
  pollMs: number;
  /** Keyed by fieldKey(model name); read with instanceModel(). */
  models: Record<string, InstanceModel>;
}

export function servingInstances(db: Db): Collection<ServingInstanceDoc> {
  return db.collection<ServingInstanceDoc>(SERVING_INSTANCES);
}

/** Servers whose heartbeat is at most `polls` of their own poll intervals old (3 by default). */
export async function liveServingInstances(db: Db, polls = 3, now = Date.now()): Promise<ServingInstanceDoc[]> {
  const docs = await servingInstances(db).find({}).toArray();
  return docs.filter((d) => now - d.at.getTime() <= polls * d.pollMs);
}

export function instanceModel(doc: ServingInstanceDoc, model: string): InstanceModel | undefined {
  return doc.models[fieldKey(model)];
}

/** True when every given server has `version` loaded and applies split revision `revision` or later. */
export function allServersReady(docs: ServingInstanceDoc[], model: string, version: number, revision: number): boolean {
  // No live server is not "all ready": a rollout must not move on silence.
  return (
    docs.length > 0 &&
    docs.every((d) => {
      const m = instanceModel(d, model);
      return !!m && m.loaded.includes(version) && m.splitRevision >= revision;
    })
  );
}
