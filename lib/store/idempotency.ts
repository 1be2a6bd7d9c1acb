// Idempotency keys for POST /v1/runs. A key is scoped to the subject that sent it and
// bound to a hash of the request body. The record is claimed (unique _id) before the
// workflow starts and holds the run id; the workflow id is the run id, so a replay, or a
// retry after a crash between claim and start, starts the same workflow id again and
// Temporal answers "already started" instead of creating a second run.
import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from './errors';

export const IDEMPOTENCY_COLLECTION = 'idempotency_keys';
/** A key may be reused for a different request after this long. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface IdempotencyDoc {
  _id: string;
  scope: string;
  key: string;
  requestHash: string;
  runId: string;
  createdAt: Date;
}

export function idempotencyKeys(db: Db): Collection<IdempotencyDoc> {
  return db.collection<IdempotencyDoc>(IDEMPOTENCY_COLLECTION);
}

export async function ensureIdempotencyIndexes(db: Db): Promise<void> {
  await idempotencyKeys(db).createIndex({ createdAt: 1 }, { name: 'createdAt' });
}

export function requestHash(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

export type ClaimResult =
  { outcome: 'claimed'; runId: string } | { outcome: 'replay'; runId: string } | { outcome: 'conflict'; runId: string };

/**
 * Claims `key` for `scope` with a fresh run id, or returns the earlier claim:
 * `replay` when the request body is the same, `conflict` when it differs.
 */
export async function claimIdempotencyKey(
  db: Db,
  input: { scope: string; key: string; requestHash: string; runId: string },
  now = new Date()
): Promise<ClaimResult> {
  const _id = createHash('sha256').update(`${input.scope}\n${input.key}`).digest('hex');
  const col = idempotencyKeys(db);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await col.insertOne({ _id, ...input, createdAt: now });
      return { outcome: 'claimed', runId: input.runId };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const existing = await col.findOne({ _id });
    if (!existing) continue; // expired and removed in between
    if (now.getTime() - existing.createdAt.getTime() > IDEMPOTENCY_TTL_MS) {
      await col.deleteOne({ _id, createdAt: existing.createdAt });
      continue;
    }
    return existing.requestHash === input.requestHash
      ? { outcome: 'replay', runId: existing.runId }
      : { outcome: 'conflict', runId: existing.runId };
  }
  throw new Error('idempotency: could not claim key after 3 attempts');
}

/** Removes records older than the TTL (FerretDB v1 has no TTL indexes). */
export async function pruneIdempotencyKeys(db: Db, now = new Date()): Promise<number> {
  const res = await idempotencyKeys(db).deleteMany({
    createdAt: { $lt: new Date(now.getTime() - IDEMPOTENCY_TTL_MS) },
  });
  return res.deletedCount;
}
