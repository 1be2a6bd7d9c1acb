// `approvals`: the human decision on a run's candidate (one per run, _id = runId): who decided,
// what, when, with what comment. The approver comes from the signal (the API takes it from the
// caller's token, never from the request body).
import type { Collection, Db } from 'mongodb';
import type { Store } from './db';

export const APPROVALS = 'approvals';

export interface ApprovalDoc {
  _id: string;
  runId: string;
  model: string;
  version: number;
  decision: 'approve' | 'reject' | 'expired';
  approver: string | null;
  comment?: string;
  requestedAt: Date;
  deadline: Date;
  decidedAt: Date;
}

export function approvals(db: Db): Collection<ApprovalDoc> {
  return db.collection<ApprovalDoc>(APPROVALS);
}

export async function ensureApprovalIndexes(db: Db): Promise<void> {
  await approvals(db).createIndex({ model: 1, decidedAt: -1 }, { name: 'model_decided' });
}

/** Records the decision (idempotent: the first recorded decision for a run is kept). */
export async function recordApproval(store: Pick<Store, 'db'>, a: Omit<ApprovalDoc, '_id'>): Promise<ApprovalDoc> {
  await approvals(store.db).updateOne({ _id: a.runId }, { $setOnInsert: a }, { upsert: true });
  return (await approvals(store.db).findOne({ _id: a.runId }))!;
}

export async function getApproval(store: Pick<Store, 'db'>, runId: string): Promise<ApprovalDoc | null> {
  return approvals(store.db).findOne({ _id: runId });
}
