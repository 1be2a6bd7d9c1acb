// Expiry by age where the store can do it: a TTL index on MongoDB; FerretDB v1 refuses the
// option ("expireAfterSeconds is not implemented yet"), so there a plain index on the same field
// is made and the caller sweeps expired documents itself (see serving/main.ts).
import type { Collection, Document } from 'mongodb';

/** Creates the TTL index on `field` (true), or a plain one when the store has no TTL indexes (false). */
export async function ensureTtlIndex<T extends Document>(
  collection: Collection<T>,
  field: string,
  ttlDays: number
): Promise<boolean> {
  try {
    await collection.createIndex({ [field]: 1 }, { name: `ttl_${field}`, expireAfterSeconds: ttlDays * 86_400 });
    return true;
  } catch {
    await collection.createIndex({ [field]: 1 }, { name: field });
    return false;
  }
}

/** Deletes documents whose `field` is older than the TTL (stores without TTL indexes). */
export async function sweepExpired<T extends Document>(
  collection: Collection<T>,
  field: string,
  ttlDays: number,
  now = Date.now()
): Promise<number> {
  const res = await collection.deleteMany({ [field]: { $lt: new Date(now - ttlDays * 86_400_000) } } as never);
  return res.deletedCount;
}
