// `runs`: one document per pipeline run (_id = run id = workflow id). Written by the pipeline's
// activities; read by the API (listRuns / getRun) and merged there with the workflow's live
// `status` query.
import type { Collection, Db, Filter } from 'mongodb';
import type { Store } from './db';
import type { RetrainTrigger } from '../workflow-safe/lifecycle';
import type { GateResult } from '../workflow-safe/quality-gates';
import type { FeatureViewLineage } from './models';
import { ferretSafe } from './ferret-safe';
import { isDuplicateKey } from './errors';

export const RUNS = 'runs';

import type { RunStatus } from '../workflow-safe/statuses';
import type { Task } from '../ml/types';

export { RUN_STATUSES, TERMINAL_STATUSES, type RunStatus } from '../workflow-safe/statuses';

export interface RunDoc {
  _id: string;
  runId: string;
  /** Model name from the spec. */
  model: string;
  spec: unknown;
  status: RunStatus;
  /** Current (or last) pipeline stage, e.g. ingest, validate, train, awaiting_approval, done. */
  stage: string;
  createdAt: Date;
  updatedAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  durationMs?: number;
  task?: Task;
  dataset?: {
    sha256: string;
    rows: number;
    bytes: number;
    format: string;
    source: string;
    uri?: string;
    featureViews?: FeatureViewLineage[];
  };
  /** Registered model version, once there is one. */
  registered?: { name: string; version: number };
  metrics?: Record<string, unknown>;
  champion?: Record<string, unknown> | null;
  gate?: { passed: boolean; reason: string; checks: unknown[]; heldOut?: GateResult['heldOut'] };
  approval?: { decision: string; approver: string; comment?: string; at: Date } | null;
  pendingApproval?: { version: number; deadline: Date } | null;
  optimisation?: Record<string, unknown>;
  promotion?: Record<string, unknown>;
  /** The trainer's summary; null where it cannot know (a command trainer; activities/types.ts TrainResult). */
  training?: { epochsRun?: number | null; resumedFromEpoch?: number; bestEpoch?: number | null };
  error?: { message: string; type?: string; stage?: string } | null;
  /** Who started the run (set by the API). */
  createdBy?: string;
  /** What started it, when the model's lifecycle workflow did (schedule, new data, commit, drift). */
  triggers?: RetrainTrigger[];
}

export function runs(db: Db): Collection<RunDoc> {
  return db.collection<RunDoc>(RUNS);
}

export async function ensureRunIndexes(db: Db): Promise<void> {
  const c = runs(db);
  await c.createIndex({ createdAt: -1, _id: -1 }, { name: 'created' });
  await c.createIndex({ model: 1, createdAt: -1, _id: -1 }, { name: 'model_created' });
  await c.createIndex({ status: 1, createdAt: -1, _id: -1 }, { name: 'status_created' });
  await c.createIndex({ stage: 1, createdAt: -1, _id: -1 }, { name: 'stage_created' });
}

/** Creates the run document if absent (idempotent: a retry or the API's earlier insert wins). */
export async function createRun(
  store: Pick<Store, 'db'>,
  input: { runId: string; model: string; spec: unknown; createdBy?: string; at?: Date }
): Promise<void> {
  const now = input.at ?? new Date();
  const upsert = () =>
    runs(store.db).updateOne(
      { _id: input.runId },
      {
        $setOnInsert: {
          runId: input.runId,
          model: input.model,
          spec: ferretSafe(input.spec),
          status: 'running',
          stage: 'queued',
          createdAt: now,
          updatedAt: now,
          ...(input.createdBy ? { createdBy: input.createdBy } : {}),
        },
      },
      { upsert: true }
    );
  // The API and the workflow may create the same run at once: the loser of the insert race retries as an update.
  await upsert().catch((err) => (isDuplicateKey(err) ? upsert() : Promise.reject(err)));
}

/** Sets fields of a run (status, stage, results). `updatedAt` is set for you. */
export async function updateRun(
  store: Pick<Store, 'db'>,
  runId: string,
  patch: Partial<Omit<RunDoc, '_id' | 'runId'>>
): Promise<void> {
  await runs(store.db).updateOne({ _id: runId }, { $set: { ...patch, updatedAt: new Date() } });
}

export async function getRun(store: Pick<Store, 'db'>, runId: string): Promise<RunDoc | null> {
  return runs(store.db).findOne({ _id: runId });
}

export interface ListRunsQuery {
  status?: RunStatus;
  model?: string;
  stage?: string;
  /** createdAt >= from */
  from?: Date;
  /** createdAt < to */
  to?: Date;
  limit?: number;
  /** Opaque cursor from the previous page's nextCursor. */
  cursor?: string;
}

export function encodeRunCursor(doc: Pick<RunDoc, 'createdAt' | '_id'>): string {
  return Buffer.from(JSON.stringify([doc.createdAt.getTime(), doc._id])).toString('base64url');
}
export function decodeRunCursor(cursor: string): { createdAt: Date; id: string } {
  const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Array.isArray(v) || typeof v[0] !== 'number' || typeof v[1] !== 'string') throw new Error('invalid cursor');
  return { createdAt: new Date(v[0]), id: v[1] };
}

/** Newest first, keyset-paginated on (createdAt, _id), so pages stay stable while runs are added. */
export async function listRuns(
  store: Pick<Store, 'db'>,
  q: ListRunsQuery = {}
): Promise<{ items: RunDoc[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(q.limit ?? 20, 1), 100);
  const and: Filter<RunDoc>[] = [];
  if (q.status) and.push({ status: q.status });
  if (q.model) and.push({ model: q.model });
  if (q.stage) and.push({ stage: q.stage });
  if (q.from) and.push({ createdAt: { $gte: q.from } });
  if (q.to) and.push({ createdAt: { $lt: q.to } });
  if (q.cursor) {
    const c = decodeRunCursor(q.cursor);
    and.push({ $or: [{ createdAt: { $lt: c.createdAt } }, { createdAt: c.createdAt, _id: { $lt: c.id } }] });
  }
  const filter: Filter<RunDoc> = and.length ? { $and: and } : {};
  const items = await runs(store.db)
    .find(filter)
    .sort({ createdAt: -1, _id: -1 })
    .limit(limit + 1)
    .toArray();
  const more = items.length > limit;
  if (more) items.pop();
  return { items, nextCursor: more ? encodeRunCursor(items[items.length - 1]) : null };
}
