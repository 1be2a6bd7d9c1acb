// The prediction log: a sample of requests (inputs, outputs, version, time, request id, row ids) appended
// to MongoDB's `prediction_log` for monitoring and audit. It never sits on the request path:
// record() only pushes into a bounded buffer, one background write drains it in batches, and
// when the store is slow or down the buffer fills and further entries are dropped and counted
// (mlops_inference_prediction_log_dropped_total). A TTL index removes entries after ttlDays, or
// a periodic sweep on stores without TTL indexes (FerretDB v1).
import type { Db } from 'mongodb';
import { ensureTtlIndex, sweepExpired } from '../lib/store/ttl';
import type { ServingMetrics } from './metrics';

export const PREDICTION_LOG = 'prediction_log';
/** Entries per insertMany. */
const WRITE_BATCH = 500;
const FLUSH_EVERY_MS = 1_000;

export interface PredictionLogEntry {
  at: Date;
  requestId: string;
  model: string;
  version: number;
  tokenId: string;
  inputs: unknown;
  outputs: unknown;
  /** One id per row from the model's id column (monitor.idColumn), when the request carried it. */
  rowIds?: string[];
}

export interface PredictionLogOptions {
  sample: number;
  buffer: number;
  ttlDays: number;
}

/**
 * The TTL index where the store has them (MongoDB); FerretDB v1 does not, so there the log sweeps
 * expired entries itself (returns false).
 */
export async function ensurePredictionLogIndexes(db: Db, ttlDays: number): Promise<boolean> {
  const log = db.collection(PREDICTION_LOG);
  // One index per command: FerretDB v1 panics on createIndexes with several specs.
  await log.createIndex({ model: 1, version: 1, at: -1 }, { name: 'model_version_at' });
  return ensureTtlIndex(log, 'at', ttlDays);
}

/** Deletes entries older than the TTL (stores without TTL indexes). */
export function sweepPredictionLog(db: Db, ttlDays: number, now = Date.now()): Promise<number> {
  return sweepExpired(db.collection(PREDICTION_LOG), 'at', ttlDays, now);
}

export class PredictionLog {
  private buffer: PredictionLogEntry[] = [];
  private writing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly opts: PredictionLogOptions,
    private readonly metrics: ServingMetrics,
    private readonly random: () => number = Math.random
  ) {
    this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Whether this request is in the sample (decide before building the entry). */
  sampled(): boolean {
    return this.opts.sample > 0 && this.random() < this.opts.sample;
  }

  record(entry: PredictionLogEntry): void {
    if (this.buffer.length >= this.opts.buffer) {
      this.metrics.logDropped.inc({ reason: 'buffer_full' });
      return;
    }
    this.buffer.push(entry);
    if (this.buffer.length >= WRITE_BATCH) void this.flush(); // never rejects: failures are counted
  }

  /** Starts a write of the buffered entries unless one is under way. */
  flush(): Promise<void> {
    if (this.writing || this.buffer.length === 0) return this.writing ?? Promise.resolve();
    const batch = this.buffer.splice(0, WRITE_BATCH);
    // No timeout of our own: a down store fails after the driver's server selection timeout, and
    // a slow one only delays this write while the bounded buffer drops what does not fit.
    this.writing = this.db
      .collection<PredictionLogEntry>(PREDICTION_LOG)
      .insertMany(batch, { ordered: false })
      .then(
        () => void this.metrics.logWritten.inc(batch.length),
        () => void this.metrics.logDropped.inc({ reason: 'store_error' }, batch.length)
      )
      .finally(() => {
        this.writing = undefined;
        if (this.buffer.length >= WRITE_BATCH) void this.flush();
      });
    return this.writing;
  }

  /** Writes what is buffered (at shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
    await this.flush();
  }
}
