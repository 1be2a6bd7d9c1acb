// A read model of runs and run events for the API, shaped for FerretDB v1 (SQLite): that
// server pushes down only an exact `{_id: <string>}` filter; every other find (a field
// filter, a sort, $in, ranges) scans and decodes the whole collection in Go, which costs
// seconds at 100k runs / 1M events. So every read here is a handful of `_id` lookups:
//
//   run_index     `<key>`          directory: the time buckets that hold runs of key
//                 `<key>|<bucket>` bucket: { entries: { <runId>: RunIndexEntry } }
//                 keys: `all` and `status:<status>` (hour buckets, yyyymmddhh UTC) and
//                 `model:<name>` (day buckets, yyyymmdd): a page is one or two bucket reads
//                 at ~1 run/minute. A run stays under the status keys it was seen with;
//                 readers skip (and remove) entries whose status has moved on.
//   run_event_index `<runId>`      { events: { "<step>:<attempt>": RunEvent (no _id) } }
//
// Entries are summaries (status, stage, times, version) for list pages. A run's model and
// createdAt never change and its terminal status is final, so a reader trusts terminal
// entries and refreshes open ones from the run document (one `_id` lookup), writing what it
// learns back: the index stays correct even when a writer does not call indexRunUpdate.
import type { Collection, Db } from 'mongodb';
import type { RunEvent } from './events';
import type { RunDoc, RunStatus } from './runs';
import { isTerminalStatus } from '../workflow-safe/statuses';
import { isDuplicateKey } from './errors';

export const RUN_INDEX = 'run_index';
export const RUN_EVENT_INDEX = 'run_event_index';

export interface RunIndexEntry {
  id: string;
  /** createdAt in ms. */
  t: number;
  model: string;
  status: RunStatus;
  stage: string;
  /** updatedAt in ms. */
  u: number;
  createdBy?: string;
  version?: number | null;
  endedAt?: number;
  durationMs?: number;
  task?: RunDoc['task'];
}

interface BucketDoc {
  _id: string;
  key: string;
  hour: string;
  entries: Record<string, RunIndexEntry>;
}
interface DirectoryDoc {
  _id: string;
  hours: string[];
}
interface EventIndexDoc {
  _id: string;
  events: Record<string, Omit<RunEvent, '_id'>>;
}

function col(db: Db): Collection<BucketDoc | DirectoryDoc> {
  return db.collection<BucketDoc | DirectoryDoc>(RUN_INDEX);
}
function eventCol(db: Db): Collection<EventIndexDoc> {
  return db.collection<EventIndexDoc>(RUN_EVENT_INDEX);
}

/** Map keys become dotted update paths: ids with `.` or a leading `$` cannot be indexed. */
export function indexable(runId: string): boolean {
  return !runId.includes('.') && !runId.startsWith('$');
}

/** The time bucket of a key: days for a model's key, hours otherwise. */
export function bucketOf(key: string, ms: number): string {
  const iso = new Date(ms).toISOString();
  return key.startsWith('model:') ? iso.slice(0, 10).replace(/-/g, '') : iso.slice(0, 13).replace(/[-T]/g, '');
}

export function keysOf(entry: RunIndexEntry): string[] {
  return ['all', `model:${entry.model}`, `status:${entry.status}`];
}

export function entryOf(doc: RunDoc): RunIndexEntry {
  return {
    id: doc._id,
    t: doc.createdAt.getTime(),
    model: doc.model,
    status: doc.status,
    stage: doc.stage,
    u: (doc.updatedAt ?? doc.createdAt).getTime(),
    ...(doc.createdBy ? { createdBy: doc.createdBy } : {}),
    version: doc.registered?.version ?? null,
    ...(doc.endedAt ? { endedAt: doc.endedAt.getTime() } : {}),
    ...(doc.durationMs !== undefined ? { durationMs: doc.durationMs } : {}),
    ...(doc.task ? { task: doc.task } : {}),
  };
}

/** Adds or replaces a run's entry under `all` and `model:<name>` (idempotent). */
export async function indexRun(db: Db, entry: RunIndexEntry): Promise<void> {
  if (!indexable(entry.id)) return;
  await Promise.all(
    keysOf(entry).map(async (key) => {
      const hour = bucketOf(key, entry.t);
      await col(db).updateOne(
        { _id: `${key}|${hour}` },
        { $set: { key, hour, [`entries.${entry.id}`]: entry } } as never,
        { upsert: true }
      );
      await col(db).updateOne({ _id: key }, { $addToSet: { hours: hour } } as never, { upsert: true });
    })
  );
}

/** Writers may call this after changing a run (status, stage, results); readers also do. */
export async function indexRunUpdate(db: Db, doc: RunDoc): Promise<void> {
  await indexRun(db, entryOf(doc));
}

export interface RunIndexQuery {
  model?: string;
  status?: string;
  stage?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** Continue after this position (exclusive), newest first. */
  after?: { t: number; id: string };
  /** Most entries examined per call; the page may be short, with a cursor to go on. */
  budget?: number;
  /** Fresh entry for an open run (reads its run document). */
  refresh: (entry: RunIndexEntry) => Promise<RunIndexEntry | null>;
  /** Reuses directory documents for a moment (they only grow, by one bucket an hour). */
  dirCache?: DirectoryCache;
}

/** Directory documents cached for `ttlMs`; clear() after indexing through this process. */
export class DirectoryCache {
  private readonly docs = new Map<string, { at: number; doc: DirectoryDoc | null }>();
  constructor(readonly ttlMs = 1_000) {}
  async get(db: Db, key: string): Promise<DirectoryDoc | null> {
    const now = Date.now();
    const hit = this.docs.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.doc;
    const doc = (await col(db).findOne({ _id: key })) as DirectoryDoc | null;
    if (this.docs.size > 10_000) this.docs.clear();
    this.docs.set(key, { at: now, doc });
    return doc;
  }
  clear(): void {
    this.docs.clear();
  }
}

export interface RunIndexPage {
  items: RunIndexEntry[];
  /** Where the next page starts, or null at the end. */
  next: { t: number; id: string } | null;
  /** Whether the directory for this key exists (false: nothing indexed yet). */
  indexed: boolean;
}

const newestFirst = (a: RunIndexEntry, b: RunIndexEntry) => b.t - a.t || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

function before(e: RunIndexEntry, pos: { t: number; id: string }): boolean {
  return e.t < pos.t || (e.t === pos.t && e.id < pos.id);
}

export async function queryRunIndex(db: Db, q: RunIndexQuery): Promise<RunIndexPage> {
  const key = q.model ? `model:${q.model}` : q.status ? `status:${q.status}` : 'all';
  const dir = q.dirCache
    ? await q.dirCache.get(db, key)
    : ((await col(db).findOne({ _id: key })) as DirectoryDoc | null);
  if (!dir) {
    // No runs under this key; `indexed` is false only when nothing is indexed at all.
    const any = key === 'all' ? null : await col(db).findOne({ _id: 'all' });
    return { items: [], next: null, indexed: any !== null };
  }
  const fromHour = q.from ? bucketOf(key, q.from.getTime()) : '';
  const toHour = q.to ? bucketOf(key, q.to.getTime()) : '9';
  const afterHour = q.after ? bucketOf(key, q.after.t) : '9';
  const hours = [...new Set(dir.hours)]
    .filter((h) => h >= fromHour && h <= toHour && h <= afterHour)
    .sort()
    .reverse();
  const budget = q.budget ?? 2_000;
  const items: RunIndexEntry[] = [];
  let examined = 0;
  let last: { t: number; id: string } | null = null;
  for (let hi = 0; hi < hours.length; hi++) {
    const bucket = (await col(db).findOne({ _id: `${key}|${hours[hi]}` })) as BucketDoc | null;
    const entries = Object.values(bucket?.entries ?? {}).sort(newestFirst);
    // Open runs of this bucket are refreshed together (their status may have moved on).
    const candidates = entries.filter(
      (e) =>
        (!q.after || before(e, q.after)) &&
        (!q.from || e.t >= q.from.getTime()) &&
        (!q.to || e.t < q.to.getTime()) &&
        (!q.model || e.model === q.model)
    );
    const fresh = await Promise.all(candidates.map((e) => (isTerminalStatus(e.status) ? e : q.refresh(e))));
    if (key.startsWith('status:')) {
      // Entries whose status moved on leave this key (they are under their new one).
      const gone = candidates.filter((_c, i) => fresh[i]?.status !== q.status).map((c) => `entries.${c.id}`);
      if (gone.length) {
        col(db)
          .updateOne({ _id: `${key}|${hours[hi]}` }, { $unset: Object.fromEntries(gone.map((g) => [g, ''])) } as never)
          .catch(() => undefined);
      }
    }
    for (let i = 0; i < candidates.length; i++) {
      const e = fresh[i];
      examined++;
      last = { t: candidates[i].t, id: candidates[i].id };
      if (e && (!q.status || e.status === q.status) && (!q.stage || e.stage === q.stage)) {
        items.push(e);
        if (items.length > q.limit) {
          items.pop();
          const end = items[items.length - 1];
          return { items, next: { t: end.t, id: end.id }, indexed: true };
        }
      }
      if (examined >= budget) {
        const more = i < candidates.length - 1 || hi < hours.length - 1;
        return { items, next: more ? last : null, indexed: true };
      }
    }
  }
  return { items, next: null, indexed: true };
}

/** Records one event of a run in its index document (writers call it next to recordStep*). */
export async function indexEvent(db: Db, e: Omit<RunEvent, '_id'>): Promise<void> {
  if (!indexable(e.step)) return;
  await eventCol(db).updateOne({ _id: e.runId }, { $set: { [`events.${e.step}:${e.attempt}`]: e } } as never, {
    upsert: true,
  });
}

/** A run's indexed events in start order, or null when the run has no index document. */
export async function indexedEvents(db: Db, runId: string): Promise<Omit<RunEvent, '_id'>[] | null> {
  const doc = await eventCol(db).findOne({ _id: runId });
  if (!doc) return null;
  return Object.values(doc.events ?? {}).sort(
    (a, b) =>
      new Date(a.startedAt).getTime() - new Date(b.startedAt).getTime() ||
      (a.step < b.step ? -1 : a.step > b.step ? 1 : a.attempt - b.attempt)
  );
}

/** Replaces a run's event index document with these events (after a probe or a scan). */
export async function storeEventIndex(db: Db, runId: string, events: RunEvent[]): Promise<void> {
  const map: Record<string, Omit<RunEvent, '_id'>> = {};
  for (const { _id, ...e } of events) {
    void _id;
    if (indexable(e.step)) map[`${e.step}:${e.attempt}`] = e;
  }
  await eventCol(db).replaceOne({ _id: runId }, { events: map }, { upsert: true });
}

/**
 * Builds the run index from the runs collection: one scan, buckets assembled in memory and
 * inserted in batches (inserts are the fast path on FerretDB; a bucket that exists already
 * is merged with an update). For start-up on a database whose index is missing, and tools.
 */
export async function rebuildRunIndex(db: Db, onProgress?: (n: number) => void): Promise<number> {
  let n = 0;
  const buckets = new Map<string, BucketDoc>();
  const hoursByKey = new Map<string, Set<string>>();
  for await (const doc of db.collection<RunDoc>('runs').find({})) {
    const e = entryOf(doc);
    n++;
    if (n % 20_000 === 0) onProgress?.(n);
    if (!indexable(e.id)) continue;
    for (const key of keysOf(e)) {
      const hour = bucketOf(key, e.t);
      const id = `${key}|${hour}`;
      let b = buckets.get(id);
      if (!b) buckets.set(id, (b = { _id: id, key, hour, entries: {} }));
      b.entries[e.id] = e;
      hoursByKey.set(key, (hoursByKey.get(key) ?? new Set()).add(hour));
    }
  }
  const docs: (BucketDoc | DirectoryDoc)[] = [
    ...buckets.values(),
    ...[...hoursByKey].map(([key, hours]) => ({ _id: key, hours: [...hours].sort() })),
  ];
  for (let i = 0; i < docs.length; i += 500) {
    const part = docs.slice(i, i + 500);
    try {
      await col(db).insertMany(part, { ordered: false });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Some exist already: merge those one by one.
      for (const d of part) {
        if ('entries' in d) {
          const set: Record<string, unknown> = { key: d.key, hour: d.hour };
          for (const [id, e] of Object.entries(d.entries)) set[`entries.${id}`] = e;
          await col(db).updateOne({ _id: d._id }, { $set: set } as never, { upsert: true });
        } else {
          await col(db).updateOne({ _id: d._id }, { $addToSet: { hours: { $each: d.hours } } } as never, {
            upsert: true,
          });
        }
      }
    }
  }
  return n;
}

export async function runIndexExists(db: Db): Promise<boolean> {
  return (await col(db).findOne({ _id: 'all' })) !== null;
}

/** Status keys of runs that are still open: the only ones whose members can move. */
export const OPEN_STATUS_KEYS = ['status:running', 'status:awaiting_approval'];

/**
 * Re-reads every run indexed under an open status and moves those whose status changed to
 * their new keys. Open runs are few, so this is cheap; the API's reconciler runs it each
 * pass, which bounds how long a status filter can miss a run whose writer did not call
 * indexRunUpdate.
 */
export async function sweepOpenRuns(
  db: Db,
  read: (runId: string) => Promise<RunDoc | null>,
  /** Run documents read per pass at most, newest buckets first. */
  maxChecks = 1_000
): Promise<number> {
  let moved = 0;
  let checks = 0;
  for (const key of OPEN_STATUS_KEYS) {
    const dir = (await col(db).findOne({ _id: key })) as DirectoryDoc | null;
    for (const hour of [...(dir?.hours ?? [])].sort().reverse()) {
      if (checks >= maxChecks) break;
      const bucketId = `${key}|${hour}`;
      const bucket = (await col(db).findOne({ _id: bucketId })) as BucketDoc | null;
      for (const e of Object.values(bucket?.entries ?? {})) {
        checks++;
        const doc = await read(e.id);
        if (doc && doc.status === e.status && doc.stage === e.stage) continue;
        if (doc) await indexRun(db, entryOf(doc));
        if (!doc || `status:${doc.status}` !== key) {
          await col(db).updateOne({ _id: bucketId }, { $unset: { [`entries.${e.id}`]: '' } } as never);
          moved++;
        }
      }
    }
  }
  return moved;
}
