// Drift sketches kept by the inference server: every answered request of a version that has a
// reference profile is added, in memory, to that version's sketch of the current time bucket
// (lib/monitoring/window.ts, O(columns x bins) whatever the traffic), and a flush every poll
// interval, at bucket rollover and at close writes each changed bucket's CUMULATIVE state, and
// its hour's (the buckets of the hour merged: O(bins), not a second add per row), into
// `drift_sketches` (lib/store/drift-sketches.ts). The monitoring window then merges a few small
// documents instead of reading every logged row back: the prediction log stays a sample for the
// feedback join and audit. Like the prediction log it never sits on the request path: record()
// is synchronous and never throws, a flush is never awaited by a request, and failures are
// counted (mlops_inference_drift_sketch_failures_total), the state kept for the next flush.
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { ReferenceProfile } from '../lib/monitoring/profile';
import { WindowAccumulator, type LoggedRequest } from '../lib/monitoring/window';
import { bucketStart, HOUR_MS, sketchId, writeSketches, type SketchWrite } from '../lib/store/drift-sketches';
import { getReferenceProfile } from '../lib/store/monitoring';
import type { ServingMetrics } from './metrics';

/** A version without a profile (or whose profile read failed) is looked up again after this long. */
export const PROFILE_RETRY_MS = 30_000;
/** Requests held per version while its profile is read (the first requests after a load). */
const PENDING_MAX = 1_000;
/** Buckets held at most (the store down for long): beyond it the oldest is dropped and counted. */
const BUCKETS_MAX = 10_000;

/** The version that answered: its profile is found through its training run. */
export interface SketchedVersion {
  name: string;
  version: number;
  runId: string;
}

type ProfileSlot =
  | { kind: 'loading'; pending: { at: number; entry: LoggedRequest }[] }
  | { kind: 'ready'; profile: ReferenceProfile }
  | { kind: 'none'; retryAt: number };

interface Bucket {
  model: string;
  version: number;
  start: number;
  acc: WindowAccumulator;
  /** Requests added, and how many of them the store holds. */
  added: number;
  written: number;
  hour: Hour;
}

/** An hour's roll-up: the buckets already written and let go, merged; the held ones join at each write. */
interface Hour {
  id: string;
  model: string;
  version: number;
  start: number;
  profile: ReferenceProfile;
  closed: WindowAccumulator;
  buckets: Set<Bucket>;
  added: number;
  written: number;
}

export class DriftSketches {
  private readonly profiles = new Map<string, ProfileSlot>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly hours = new Map<string, Hour>();
  private flushing: Promise<void> | undefined;
  /**
   * This process's field in a bucket document: the server id plus a boot id, so that a restarted
   * server reusing its id (pid 1 in a container) starts new totals beside the old instead of
   * overwriting them.
   */
  private readonly key: string;

  constructor(
    private readonly db: Db,
    server: string,
    private readonly metrics: ServingMetrics,
    private readonly bucketMs: number,
    private readonly now: () => number = Date.now
  ) {
    this.key = `${server}#${randomUUID().slice(0, 8)}`;
  }

  /** Adds an answered request to its version's current bucket; never throws, never waits. */
  record(v: SketchedVersion, entry: LoggedRequest): void {
    const at = this.now();
    const key = `${v.name}:${v.version}`;
    const slot = this.profiles.get(key);
    if (slot?.kind === 'ready') return this.add(v, slot.profile, at, entry);
    if (slot?.kind === 'loading') {
      if (slot.pending.length < PENDING_MAX) slot.pending.push({ at, entry });
      else this.metrics.sketchFailures.inc({ reason: 'profile_loading' });
      return;
    }
    if (slot && slot.retryAt > at) return; // no profile: not monitored
    const loading: ProfileSlot = { kind: 'loading', pending: [{ at, entry }] };
    this.profiles.set(key, loading);
    void this.loadProfile(v, key, loading);
  }

  private async loadProfile(
    v: SketchedVersion,
    key: string,
    slot: { pending: { at: number; entry: LoggedRequest }[] }
  ) {
    try {
      const doc = await getReferenceProfile({ db: this.db }, v.runId);
      if (!doc?.features) {
        this.profiles.set(key, { kind: 'none', retryAt: this.now() + PROFILE_RETRY_MS });
        return;
      }
      const profile = { rows: doc.rows ?? 0, features: doc.features, prediction: doc.prediction ?? null };
      this.profiles.set(key, { kind: 'ready', profile });
      for (const p of slot.pending) this.add(v, profile, p.at, p.entry);
    } catch {
      this.metrics.sketchFailures.inc({ reason: 'profile_error' });
      this.profiles.set(key, { kind: 'none', retryAt: this.now() + PROFILE_RETRY_MS });
    }
  }

  private add(v: SketchedVersion, profile: ReferenceProfile, at: number, entry: LoggedRequest): void {
    const start = bucketStart(at, this.bucketMs);
    const id = sketchId(v.name, v.version, start, this.bucketMs);
    let b = this.buckets.get(id);
    if (!b) {
      const rollover = this.buckets.size > 0;
      const hour = this.hourOf(v, profile, bucketStart(at, HOUR_MS));
      b = { model: v.name, version: v.version, start, acc: new WindowAccumulator(profile), added: 0, written: 0, hour };
      hour.buckets.add(b);
      this.buckets.set(id, b);
      if (this.buckets.size > BUCKETS_MAX) this.dropOldest();
      if (rollover) void this.flush(); // the previous bucket is complete: write it now
    }
    try {
      b.acc.add(entry);
      b.added++;
      b.hour.added++;
    } catch {
      this.metrics.sketchFailures.inc({ reason: 'bad_input' });
    }
  }

  private hourOf(v: SketchedVersion, profile: ReferenceProfile, start: number): Hour {
    const id = sketchId(v.name, v.version, start, HOUR_MS);
    let h = this.hours.get(id);
    if (!h) {
      const closed = new WindowAccumulator(profile);
      h = { id, model: v.name, version: v.version, start, profile, closed, buckets: new Set(), added: 0, written: 0 };
      this.hours.set(id, h);
    }
    return h;
  }

  private dropOldest(): void {
    const [id, b] = this.buckets.entries().next().value as [string, Bucket];
    this.buckets.delete(id);
    b.hour.buckets.delete(b);
    if (!b.hour.buckets.size) this.hours.delete(b.hour.id);
    this.metrics.sketchFailures.inc({ reason: 'dropped' }, b.added - b.written);
  }

  /** Writes every bucket (and hour) changed since its last write; lets go of the written ones that are over. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const buckets = [...this.buckets.values()].filter((b) => b.added > b.written);
    const hours = [...this.hours.values()].filter((h) => h.added > h.written);
    if (!buckets.length && !hours.length) return;
    const marks = { buckets: buckets.map((b) => b.added), hours: hours.map((h) => h.added) };
    const write = (x: { model: string; version: number; start: number }, width: number, acc: WindowAccumulator) => ({
      model: x.model,
      version: x.version,
      bucketStart: x.start,
      bucketMs: width,
      state: JSON.stringify(acc.state()),
    });
    const writes: SketchWrite[] = [
      ...buckets.map((b) => write(b, this.bucketMs, b.acc)),
      ...hours.map((h) => write(h, HOUR_MS, rollUp(h))),
    ];
    try {
      await writeSketches(this.db, this.key, writes);
    } catch {
      this.metrics.sketchFailures.inc({ reason: 'store_error' });
      return; // kept: the next flush writes the (then larger) cumulative states
    }
    const now = this.now();
    buckets.forEach((b, i) => (b.written = marks.buckets[i]));
    hours.forEach((h, i) => (h.written = marks.hours[i]));
    // A bucket that is over and written joins its hour's closed part (the roll-up stays the same);
    // an hour that is over, written and holds no bucket goes.
    for (const [id, b] of this.buckets) {
      if (b.start >= bucketStart(now, this.bucketMs) || b.added > b.written) continue;
      b.hour.closed.merge(b.acc.state());
      b.hour.buckets.delete(b);
      this.buckets.delete(id);
    }
    for (const [id, h] of this.hours) {
      if (h.start < bucketStart(now, HOUR_MS) && !h.buckets.size && h.added === h.written) this.hours.delete(id);
    }
  }

  /** Writes what is held (at shutdown); a second flush picks up what arrived during the first. */
  async close(): Promise<void> {
    await this.flush();
    await this.flush();
  }
}

/** An hour's state: its closed part and the buckets of it still held, merged. */
function rollUp(h: Hour): WindowAccumulator {
  const acc = new WindowAccumulator(h.profile);
  acc.merge(h.closed.state());
  for (const b of h.buckets) acc.merge(b.acc.state());
  return acc;
}
