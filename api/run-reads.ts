// The API's reads of runs and run events, through the `_id`-only read model of
// lib/store/run-index.ts (see there why: FerretDB v1 pushes down nothing else). Falls back
// to the pipeline store's scanning queries only when nothing has been indexed yet.
import type { Db } from 'mongodb';
import type { Store } from '../lib/store/db';
import { eventId, getRunEvents, runEvents, type RunEvent } from '../lib/store/events';
import {
  DirectoryCache,
  entryOf,
  indexedEvents,
  indexRun,
  queryRunIndex,
  storeEventIndex,
  type RunIndexEntry,
} from '../lib/store/run-index';
import { decodeRunCursor, encodeRunCursor, getRun, listRuns, type ListRunsQuery, type RunDoc } from '../lib/store/runs';
import { isTerminalStatus } from '../lib/workflow-safe/statuses';
import { STAGES } from '../workflows/messages';
import type { RunSummary } from './routes/run-views';
import { runSummary } from './routes/run-views';

/** Steps a run records events for (activities and workflow-level steps): the probe list. */
export const EVENT_STEPS = [...STAGES.filter((s) => s !== 'done'), 'approval-wait'];

export function summaryOfEntry(e: RunIndexEntry): RunSummary {
  return {
    runId: e.id,
    status: e.status,
    stage: e.stage,
    model: { name: e.model, version: e.version ?? null },
    createdAt: new Date(e.t),
    updatedAt: new Date(e.u),
    ...(e.endedAt !== undefined ? { endedAt: new Date(e.endedAt) } : {}),
    ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
    ...(e.createdBy ? { createdBy: e.createdBy } : {}),
    ...(e.task ? { task: e.task } : {}),
  };
}

export class RunReader {
  /** Open runs re-read at most this often per API process. */
  private readonly fresh = new Map<string, { at: number; entry: RunIndexEntry | null }>();
  private readonly dirs: DirectoryCache;

  constructor(
    private readonly store: Store,
    private readonly freshMs = 2_000
  ) {
    this.dirs = new DirectoryCache(Math.min(freshMs, 1_000));
  }

  private get db(): Db {
    return this.store.db;
  }

  /** Indexes a run after the API created it (reads it back: createdAt is the stored one). */
  async indexCreated(runId: string): Promise<void> {
    const doc = await getRun(this.store, runId);
    if (doc) await indexRun(this.db, entryOf(doc));
    this.dirs.clear();
  }

  private async refresh(e: RunIndexEntry): Promise<RunIndexEntry | null> {
    const now = Date.now();
    const hit = this.fresh.get(e.id);
    if (hit && now - hit.at < this.freshMs) return hit.entry;
    const doc = await getRun(this.store, e.id);
    const entry = doc ? entryOf(doc) : null;
    if (this.fresh.size > 10_000) this.fresh.clear();
    this.fresh.set(e.id, { at: now, entry });
    if (entry && (entry.status !== e.status || entry.stage !== e.stage || entry.u !== e.u)) {
      // Teach the index what changed (a terminal status is then final there).
      indexRun(this.db, entry).catch(() => undefined);
    }
    return entry;
  }

  async list(
    q: Omit<ListRunsQuery, 'limit'> & { limit: number }
  ): Promise<{ items: RunSummary[]; nextCursor: string | null }> {
    const after = q.cursor ? decodeRunCursor(q.cursor) : undefined;
    const page = await queryRunIndex(this.db, {
      model: q.model,
      status: q.status,
      stage: q.stage,
      from: q.from,
      to: q.to,
      limit: q.limit,
      after: after ? { t: after.createdAt.getTime(), id: after.id } : undefined,
      refresh: (e) => this.refresh(e),
      dirCache: this.dirs,
    });
    if (!page.indexed) {
      // Nothing indexed under this key yet: the store's query (a scan on FerretDB) answers.
      const scanned = await listRuns(this.store, q);
      return { items: scanned.items.map(runSummary), nextCursor: scanned.nextCursor };
    }
    return {
      items: page.items.map(summaryOfEntry),
      nextCursor: page.next ? encodeRunCursor({ createdAt: new Date(page.next.t), _id: page.next.id }) : null,
    };
  }

  /**
   * A run's events in start order: from its index document when there is one; otherwise by
   * `_id` probes of `<runId>:<step>:<attempt>` over EVENT_STEPS, stored for ended runs.
   */
  async events(run: RunDoc): Promise<Omit<RunEvent, '_id'>[]> {
    const indexed = await indexedEvents(this.db, run._id);
    if (indexed) return indexed;
    const found = await this.probeEvents(run._id);
    if (isTerminalStatus(run.status)) await storeEventIndex(this.db, run._id, found).catch(() => undefined);
    return found
      .map(({ _id, ...e }) => (void _id, e))
      .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || (a.step < b.step ? -1 : 1));
  }

  private async probeEvents(runId: string): Promise<RunEvent[]> {
    const out: RunEvent[] = [];
    const col = runEvents(this.db);
    await Promise.all(
      EVENT_STEPS.map(async (step) => {
        for (let attempt = 1; attempt <= 100; attempt++) {
          const e = await col.findOne({ _id: eventId(runId, step, attempt) });
          if (!e) break;
          out.push(e);
        }
      })
    );
    return out;
  }

  /** The store's own query (scan): used by tests to compare with the index. */
  async scanEvents(runId: string): Promise<RunEvent[]> {
    return getRunEvents(this.store, runId, { limit: 5000 });
  }
}
