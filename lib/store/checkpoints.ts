// `checkpoints`: the latest training checkpoint of a run (_id = "<runId>:<step>"), pointing at a
// content-addressed artifact. A retried training attempt (e.g. after its worker died) resumes
// from here. The epoch only moves forward.
import type { Collection, Db } from 'mongodb';
import type { ArtifactRef } from './artifacts';
import type { Store } from './db';
import { isDuplicateKey } from './errors';

export const CHECKPOINTS = 'checkpoints';

export interface CheckpointDoc {
  _id: string;
  runId: string;
  step: string;
  epoch: number;
  ref: ArtifactRef;
  attempt: number;
  at: Date;
}

export function checkpoints(db: Db): Collection<CheckpointDoc> {
  return db.collection<CheckpointDoc>(CHECKPOINTS);
}

export async function saveCheckpoint(
  store: Pick<Store, 'db'>,
  c: { runId: string; step: string; epoch: number; ref: ArtifactRef; attempt: number }
): Promise<void> {
  const _id = `${c.runId}:${c.step}`;
  const doc = { runId: c.runId, step: c.step, epoch: c.epoch, ref: c.ref, attempt: c.attempt, at: new Date() };
  const res = await checkpoints(store.db).updateOne({ _id, epoch: { $lt: c.epoch } }, { $set: doc });
  if (res.matchedCount === 0) {
    try {
      await checkpoints(store.db).insertOne({ _id, ...doc });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // a newer checkpoint exists: keep it
    }
  }
}

export async function latestCheckpoint(
  store: Pick<Store, 'db'>,
  runId: string,
  step: string
): Promise<CheckpointDoc | null> {
  return checkpoints(store.db).findOne({ _id: `${runId}:${step}` });
}
