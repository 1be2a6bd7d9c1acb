// `run_events`: append-only step events of pipeline runs, one document per (run, step, attempt)
// (_id = "<runId>:<step>:<attempt>"), so a retried activity adds a new attempt instead of a
// duplicate and re-recording the same attempt is an upsert. Each holds status, start/end
// times, duration, the worker, and the error of a failed attempt.
import type { Collection, Db } from 'mongodb';
import type { Store } from './db';

export const RUN_EVENTS = 'run_events';

export type StepStatus = 'started' | 'completed' | 'failed';

export interface RunEvent {
  _id: string;
  runId: string;
  step: string;
  attempt: number;
  status: StepStatus;
  /** Task queue (control / gpu / cpu) or "workflow" for decisions taken in the workflow. */
  queue?: string;
  worker?: string;
  /** Region of the worker that ran the attempt ('' for the default fleet): data residency evidence. */
  region?: string;
  startedAt: Date;
  endedAt?: Date;
  durationMs?: number;
  error?: { message: string; type?: string; retryable?: boolean };
  details?: Record<string, unknown>;
}

export function runEvents(db: Db): Collection<RunEvent> {
  return db.collection<RunEvent>(RUN_EVENTS);
}

export async function ensureEventIndexes(db: Db): Promise<void> {
  await runEvents(db).createIndex({ runId: 1, startedAt: 1, _id: 1 }, { name: 'run_started' });
}

export function eventId(runId: string, step: string, attempt: number): string {
  return `${runId}:${step}:${attempt}`;
}

export async function recordStepStart(
  store: Pick<Store, 'db'>,
  e: {
    runId: string;
    step: string;
    attempt: number;
    queue?: string;
    worker?: string;
    region?: string;
    at?: Date;
    details?: Record<string, unknown>;
  }
): Promise<void> {
  const at = e.at ?? new Date();
  await runEvents(store.db).updateOne(
    { _id: eventId(e.runId, e.step, e.attempt) },
    {
      $setOnInsert: { runId: e.runId, step: e.step, attempt: e.attempt, startedAt: at, status: 'started' },
      $set: {
        ...(e.queue ? { queue: e.queue } : {}),
        ...(e.worker ? { worker: e.worker } : {}),
        ...(e.region !== undefined ? { region: e.region } : {}),
        ...(e.details ? { details: e.details } : {}),
      },
    },
    { upsert: true }
  );
}

export async function recordStepEnd(
  store: Pick<Store, 'db'>,
  e: {
    runId: string;
    step: string;
    attempt: number;
    status: 'completed' | 'failed';
    startedAt: Date;
    endedAt?: Date;
    queue?: string;
    worker?: string;
    region?: string;
    error?: RunEvent['error'];
    details?: Record<string, unknown>;
  }
): Promise<void> {
  const endedAt = e.endedAt ?? new Date();
  await runEvents(store.db).updateOne(
    { _id: eventId(e.runId, e.step, e.attempt) },
    {
      $setOnInsert: { runId: e.runId, step: e.step, attempt: e.attempt, startedAt: e.startedAt },
      $set: {
        status: e.status,
        endedAt,
        durationMs: endedAt.getTime() - e.startedAt.getTime(),
        ...(e.queue ? { queue: e.queue } : {}),
        ...(e.worker ? { worker: e.worker } : {}),
        ...(e.region !== undefined ? { region: e.region } : {}),
        ...(e.error ? { error: e.error } : {}),
        ...(e.details ? { details: e.details } : {}),
      },
    },
    { upsert: true }
  );
}

/** A run's events in the order they started (then by id), paginated by `after` (an event _id). */
export async function getRunEvents(
  store: Pick<Store, 'db'>,
  runId: string,
  opts: { limit?: number; skip?: number } = {}
): Promise<RunEvent[]> {
  const limit = Math.min(Math.max(opts.limit ?? 1000, 1), 5000);
  return runEvents(store.db)
    .find({ runId })
    .sort({ startedAt: 1, _id: 1 })
    .skip(opts.skip ?? 0)
    .limit(limit)
    .toArray();
}
