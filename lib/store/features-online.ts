// `features_online`: the latest feature values of each entity, per view version, for inference.
// _id = "<view>@v<N>:<entity key>", so a lookup is a read by _id. Writes are idempotent and
// ordered by event time: an upsert only replaces a document with an older event time, so a
// re-run, a retried partition or partitions finishing out of order all end in the same state.
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import type { Cell } from '../features/csv-records';
import type { Store } from './db';
import { isDuplicateKey } from './errors';
import { viewId } from './feature-views';

export const FEATURES_ONLINE = 'features_online';

export interface OnlineFeatureDoc {
  _id: string;
  /** Event time of the values. */
  t: Date;
  values: Record<string, Cell>;
  updatedAt: Date;
}

export function onlineFeatures(db: Db): Collection<OnlineFeatureDoc> {
  return db.collection<OnlineFeatureDoc>(FEATURES_ONLINE);
}

export function onlineId(view: string, version: number, key: string): string {
  return `${viewId(view, version)}:${key}`;
}

/**
 * Writes each row unless the stored one is as new or newer. The filter matches only an older
 * document; when a newer one exists the upsert's insert collides on _id, which is the answer
 * "keep what is there", not an error. Returns how many documents were written.
 */
export async function upsertOnline(
  store: Pick<Store, 'db'>,
  rows: { _id: string; t: number; values: Record<string, Cell> }[]
): Promise<number> {
  if (rows.length === 0) return 0;
  const now = new Date();
  const ops: AnyBulkWriteOperation<OnlineFeatureDoc>[] = rows.map((r) => ({
    updateOne: {
      filter: { _id: r._id, t: { $lt: new Date(r.t) } },
      update: { $set: { t: new Date(r.t), values: r.values, updatedAt: now } },
      upsert: true,
    },
  }));
  try {
    const res = await onlineFeatures(store.db).bulkWrite(ops, { ordered: false });
    return res.upsertedCount + res.modifiedCount;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const r = (err as { result?: { upsertedCount?: number; modifiedCount?: number } }).result;
    return (r?.upsertedCount ?? 0) + (r?.modifiedCount ?? 0);
  }
}

export async function readOnline(store: Pick<Store, 'db'>, ids: string[]): Promise<Map<string, OnlineFeatureDoc>> {
  if (ids.length === 0) return new Map();
  const docs = await onlineFeatures(store.db)
    .find({ _id: { $in: ids } })
    .toArray();
  return new Map(docs.map((d) => [d._id, d]));
}
