// Per-version serving statistics for the rollout's gates: every request routed by model name
// (live) or mirrored to a shadow candidate is counted in memory per (model, version, live/shadow,
// STATS_WINDOW_MS window), and every flush adds the counts into `serving_stats` with $inc
// (lib/store/deployments.ts). A flush is idempotent: each batch carries a sequence id that the
// $inc's filter excludes and that the same update records, so a batch retried after a store
// timeout (outcome unknown) is added once, and the sums over servers and flushes are exact.
import { randomUUID } from 'node:crypto';
import type { AnyBulkWriteOperation, Db } from 'mongodb';
import {
  fieldKey,
  LATENCY_BOUNDS_MS,
  servingStats,
  statsId,
  STATS_WINDOW_MS,
  valueBin,
  type ServingStatsDoc,
} from '../lib/store/deployments';
import type { ServingMetrics } from './metrics';
import type { Prediction } from './protocol';

/** Batches kept for retry while the store is down; beyond it the oldest is dropped and counted. */
const UNSENT_MAX = 1_000;

export interface Observation {
  model: string;
  version: number;
  shadow: boolean;
  latencyMs: number;
  /** Failed inside the model (a 5xx). */
  error: boolean;
  prediction?: Prediction;
  /** Shadow only: whether the answer agreed with stable's (undefined: not compared). */
  agreed?: boolean;
}

interface Counts {
  model: string;
  version: number;
  shadow: boolean;
  windowStart: number;
  requests: number;
  errors: number;
  latency: number[];
  predictions: Map<string, number>;
  compared: number;
  agreed: number;
}

interface Batch {
  seq: string;
  counts: Counts[];
}

export function latencyBucket(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((b) => ms <= b);
  return i === -1 ? LATENCY_BOUNDS_MS.length : i;
}

export class VersionStats {
  private current = new Map<string, Counts>();
  private unsent: Batch[] = [];
  private flushing: Promise<void> | undefined;
  private readonly boot = randomUUID().slice(0, 8);
  private seq = 0;

  constructor(
    private readonly db: Db,
    private readonly server: string,
    private readonly metrics: ServingMetrics,
    private readonly now: () => number = Date.now
  ) {}

  record(o: Observation): void {
    const windowStart = Math.floor(this.now() / STATS_WINDOW_MS) * STATS_WINDOW_MS;
    const id = statsId(o.model, o.version, this.server, windowStart, o.shadow);
    let c = this.current.get(id);
    if (!c) {
      c = {
        model: o.model,
        version: o.version,
        shadow: o.shadow,
        windowStart,
        requests: 0,
        errors: 0,
        latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
        predictions: new Map(),
        compared: 0,
        agreed: 0,
      };
      this.current.set(id, c);
    }
    c.requests++;
    if (o.error) c.errors++;
    c.latency[latencyBucket(o.latencyMs)]++;
    const p = o.prediction;
    if (p?.labels) for (const l of p.labels) c.predictions.set(fieldKey(l), (c.predictions.get(fieldKey(l)) ?? 0) + 1);
    else if (p?.values)
      for (const v of p.values) c.predictions.set(valueBin(v), (c.predictions.get(valueBin(v)) ?? 0) + 1);
    if (o.agreed !== undefined) {
      c.compared++;
      if (o.agreed) c.agreed++;
    }
    this.metrics.versionLatency.observe(
      { model: o.model, version: String(o.version), traffic: o.shadow ? 'shadow' : 'live' },
      o.latencyMs / 1000
    );
  }

  /** Adds what was counted since the last flush (and any batch a failed flush left) into the store. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.current.size) {
      this.unsent.push({ seq: `${this.boot}:${++this.seq}`, counts: [...this.current.values()] });
      this.current = new Map();
      if (this.unsent.length > UNSENT_MAX) {
        const dropped = this.unsent.shift()!;
        this.metrics.statsDropped.inc(dropped.counts.reduce((s, c) => s + c.requests, 0));
      }
    }
    if (!this.unsent.length) return Promise.resolve();
    this.flushing = (async () => {
      while (this.unsent.length) {
        const batch = this.unsent[0];
        try {
          await servingStats(this.db).bulkWrite(this.operations(batch), { ordered: true });
        } catch {
          return; // kept, retried by the next flush with the same sequence id
        }
        this.unsent.shift();
      }
    })().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private operations(batch: Batch): AnyBulkWriteOperation<ServingStatsDoc>[] {
    return batch.counts.flatMap((c) => {
      const _id = statsId(c.model, c.version, this.server, c.windowStart, c.shadow);
      const inc: Record<string, number> = { requests: c.requests, errors: c.errors };
      c.latency.forEach((n, i) => n && (inc[`latency.${i}`] = n));
      for (const [k, n] of c.predictions) inc[`predictions.${k}`] = n;
      if (c.shadow) Object.assign(inc, { compared: c.compared, agreed: c.agreed });
      // $setOnInsert and $inc may not touch the same field in one update, hence two: the first
      // creates the document with its zeroed histogram (an $inc upsert of `latency.3` would make
      // an object, not an array), the second adds unless this batch was already added.
      return [
        {
          updateOne: {
            filter: { _id },
            update: {
              $setOnInsert: {
                model: c.model,
                version: c.version,
                server: this.server,
                windowStart: new Date(c.windowStart),
                shadow: c.shadow,
                requests: 0,
                errors: 0,
                latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
                predictions: {},
                ...(c.shadow ? { compared: 0, agreed: 0 } : {}),
                flushes: [],
              },
            },
            upsert: true,
          },
        },
        {
          updateOne: {
            filter: { _id, flushes: { $ne: batch.seq } },
            update: { $inc: inc, $push: { flushes: batch.seq } },
          },
        },
      ];
    });
  }
}
