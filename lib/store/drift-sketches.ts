// `drift_sketches`: the monitoring window's input, written by the inference servers. One document
// per (model, version, time bucket), _id "<model>:<version>:<bucket start ms>", so that both the
// write and the read are `_id` equality, the only filter embedded FerretDB v1 pushes down (any
// other filter scans the whole collection, every model's). Each server $sets its own field
// `servers.<server key>` to its CUMULATIVE state of that bucket as one JSON string (one BSON
// value: cheap for FerretDB, which pays per value): a repeated or retried flush writes the same or
// a newer total, never a second copy, and servers never overwrite each other. Every bucket also
// rolls up into its hour's document (_id "<model>:<version>:h:<hour start ms>"), so a window reads
// one lookup per whole hour it covers plus the buckets at its ragged edges (a 24 h window ending
// on an hour: 24 lookups, not 1440), and merges every server's state.
import type { Collection, Db } from 'mongodb';
import { fieldKey } from './deployments';
import { ensureTtlIndex, sweepExpired } from './ttl';

export const DRIFT_SKETCHES = 'drift_sketches';

export interface DriftSketchDoc {
  _id: string;
  model: string;
  version: number;
  /** The bucket: [from, to). */
  from: Date;
  to: Date;
  /** Per server key (fieldKey of the server id): its cumulative WindowState of the bucket, as JSON. */
  servers: Record<string, string>;
}

export function driftSketches(db: Db): Collection<DriftSketchDoc> {
  return db.collection<DriftSketchDoc>(DRIFT_SKETCHES);
}

/** The roll-up level: every bucket width divides it (lib/config.ts checks). */
export const HOUR_MS = 3_600_000;

export function sketchId(model: string, version: number, bucketStart: number, bucketMs: number): string {
  return bucketMs === HOUR_MS ? `${model}:${version}:h:${bucketStart}` : `${model}:${version}:${bucketStart}`;
}

export function bucketStart(at: number, bucketMs: number): number {
  return Math.floor(at / bucketMs) * bucketMs;
}

/** Starts of the buckets that overlap [from, to): the first one may begin before `from`, the last end after `to`. */
export function bucketsOverlapping(from: number, to: number, bucketMs: number): number[] {
  const out: number[] = [];
  for (let s = bucketStart(from, bucketMs); s < to; s += bucketMs) out.push(s);
  return out;
}

/**
 * The documents that hold exactly the buckets overlapping [from, to): the whole hours inside it
 * as hour roll-ups, the rest as buckets. The same rows as reading every bucket, fewer lookups.
 */
export function windowDocuments(
  from: number,
  to: number,
  bucketMs: number
): { bucketStart: number; bucketMs: number }[] {
  const of = (starts: number[], width: number) => starts.map((s) => ({ bucketStart: s, bucketMs: width }));
  // Whole hours: from the first hour that starts at or after the first bucket, to the last that ends by `to`.
  const firstHour = Math.ceil(bucketStart(from, bucketMs) / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (bucketMs === HOUR_MS || firstHour >= lastHour) return of(bucketsOverlapping(from, to, bucketMs), bucketMs);
  return [
    ...of(bucketsOverlapping(from, firstHour, bucketMs), bucketMs),
    ...of(bucketsOverlapping(firstHour, lastHour, HOUR_MS), HOUR_MS),
    ...of(bucketsOverlapping(lastHour, to, bucketMs), bucketMs),
  ];
}

export interface SketchWrite {
  model: string;
  version: number;
  bucketStart: number;
  bucketMs: number;
  /** JSON of the server's cumulative state of the bucket. */
  state: string;
}

/** Writes one server's cumulative bucket states (idempotent: the same state twice is one state). */
export async function writeSketches(db: Db, server: string, writes: SketchWrite[]): Promise<void> {
  if (!writes.length) return;
  const key = `servers.${fieldKey(server)}`;
  await driftSketches(db).bulkWrite(
    writes.map((w) => ({
      updateOne: {
        filter: { _id: sketchId(w.model, w.version, w.bucketStart, w.bucketMs) },
        update: {
          $set: { [key]: w.state },
          $setOnInsert: {
            model: w.model,
            version: w.version,
            from: new Date(w.bucketStart),
            to: new Date(w.bucketStart + w.bucketMs),
          },
        },
        upsert: true,
      },
    })),
    { ordered: false }
  );
}

/**
 * The bucket documents of a window, read by `_id` point lookups, `concurrency` at a time; absent
 * buckets (no traffic) are skipped. `progress` is called after each lookup.
 */
export async function readSketches(
  db: Db,
  model: string,
  version: number,
  window: { from: Date; to: Date },
  bucketMs: number,
  opts: { concurrency: number; progress?: (done: number, of: number) => void }
): Promise<DriftSketchDoc[]> {
  const ids = windowDocuments(window.from.getTime(), window.to.getTime(), bucketMs).map((d) =>
    sketchId(model, version, d.bucketStart, d.bucketMs)
  );
  const docs: DriftSketchDoc[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < ids.length) {
      const doc = await driftSketches(db).findOne({ _id: ids[next++] });
      if (doc) docs.push(doc);
      opts.progress?.(++done, ids.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, ids.length) }, worker));
  return docs.sort((a, b) => a.from.getTime() - b.from.getTime());
}

/** Expiry of old buckets, like the prediction log's: a TTL index on `to` where the store has them. */
export function ensureDriftSketchIndexes(db: Db, ttlDays: number): Promise<boolean> {
  return ensureTtlIndex(driftSketches(db), 'to', ttlDays);
}

export function sweepDriftSketches(db: Db, ttlDays: number, now = Date.now()): Promise<number> {
  return sweepExpired(driftSketches(db), 'to', ttlDays, now);
}
