// `batch_predictions`: one document per batch-inference job (_id = batch id = workflow id).
// The API creates it (status queued); the `batchInference` workflow's activities record every
// change after that (the pinned version, the input's size, rows done per window, the outcome and
// the output and errors artifacts). The API merges it with the workflow's live progress query.
import type { Collection, Db } from 'mongodb';
import type { ArtifactRef } from './artifacts';
import type { Store } from './db';
import { BATCH_TERMINAL, type BatchStatus } from '../workflow-safe/statuses';

export { BATCH_STATUSES, BATCH_TERMINAL, type BatchStatus } from '../workflow-safe/statuses';

export const BATCH_PREDICTIONS = 'batch_predictions';

export interface BatchDoc {
  _id: string;
  batchId: string;
  model: string;
  /** What the request named; `version` below is what the job pinned at its start. */
  requested: { alias?: string; version?: number };
  version: number | null;
  input: { path: string; rows?: number; bytes?: number; sha256?: string };
  format: 'csv' | 'jsonl';
  idColumn?: string;
  maxErrorRate: number;
  status: BatchStatus;
  chunks?: number;
  rowsTotal?: number;
  rowsDone?: number;
  rowsFailed?: number;
  /** Manifests of the ordered output and of the errors (GET …/output and …/errors stream them). */
  output?: ArtifactRef | null;
  errors?: ArtifactRef | null;
  error?: { message: string; type?: string } | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  startedAt?: Date;
  endedAt?: Date;
}

export type BatchPatch = Partial<
  Pick<
    BatchDoc,
    | 'status'
    | 'version'
    | 'input'
    | 'chunks'
    | 'rowsTotal'
    | 'rowsDone'
    | 'rowsFailed'
    | 'output'
    | 'errors'
    | 'error'
    | 'startedAt'
    | 'endedAt'
  >
>;

export function batchPredictions(db: Db): Collection<BatchDoc> {
  return db.collection<BatchDoc>(BATCH_PREDICTIONS);
}

export async function ensureBatchIndexes(db: Db): Promise<void> {
  await batchPredictions(db).createIndex({ createdAt: -1, _id: -1 }, { name: 'created' });
}

export async function createBatch(
  store: Pick<Store, 'db'>,
  doc: Omit<BatchDoc, '_id' | 'status' | 'createdAt' | 'updatedAt' | 'version'>
): Promise<void> {
  const now = new Date();
  // An upsert, so a replayed request (same Idempotency-Key, same id) changes nothing.
  await batchPredictions(store.db).updateOne(
    { _id: doc.batchId },
    { $setOnInsert: { ...doc, status: 'queued', version: null, createdAt: now, updatedAt: now } },
    { upsert: true }
  );
}

/**
 * Applies a patch. A terminal status is final: a late write from a retried activity never turns
 * a cancelled or failed job back into running.
 */
export async function updateBatch(store: Pick<Store, 'db'>, batchId: string, patch: BatchPatch): Promise<void> {
  await batchPredictions(store.db).updateOne(
    { _id: batchId, status: { $nin: [...BATCH_TERMINAL] } },
    { $set: { ...patch, updatedAt: new Date() } }
  );
}

export async function getBatch(store: Pick<Store, 'db'>, batchId: string): Promise<BatchDoc | null> {
  return batchPredictions(store.db).findOne({ _id: batchId });
}
