// The append-only audit trail: who did what to which object, when, from which token.
// Entries form a hash chain: each carries the hash of the previous one and a sequence
// number with a unique index, so two writers cannot both extend the same link (the
// loser retries on the new head). Editing or deleting an entry breaks the chain, and
// verifyAuditChain names the first broken link.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../crypto/canonical-json';
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from './errors';

export const AUDIT_COLLECTION = 'audit';
const GENESIS = '0'.repeat(64);

export interface AuditActor {
  tokenId: string;
  subject: string;
  role: string;
}

export interface AuditInput {
  actor: AuditActor | null;
  /** Dotted verb, e.g. `run.start`, `run.approve`, `model.alias.move`, `token.create`. */
  action: string;
  object: { type: string; id: string };
  outcome?: 'ok' | 'denied' | 'failed';
  details?: Record<string, unknown>;
  requestId?: string;
  ip?: string;
}

export interface AuditEntry extends Required<Omit<AuditInput, 'details' | 'requestId' | 'ip'>> {
  _id: number; // = seq
  seq: number;
  at: Date;
  details?: Record<string, unknown>;
  requestId?: string;
  ip?: string;
  prevHash: string;
  hash: string;
}

export function audit(db: Db): Collection<AuditEntry> {
  return db.collection<AuditEntry>(AUDIT_COLLECTION);
}

export async function ensureAuditIndexes(db: Db): Promise<void> {
  // One index per command: FerretDB v1 panics on createIndexes with several specs.
  await audit(db).createIndex({ 'object.type': 1, 'object.id': 1, seq: -1 }, { name: 'object' });
  await audit(db).createIndex({ action: 1, seq: -1 }, { name: 'action' });
  await audit(db).createIndex({ 'actor.tokenId': 1, seq: -1 }, { name: 'actor' });
}

export function entryHash(entry: Omit<AuditEntry, '_id' | 'hash'>): string {
  return createHash('sha256').update(canonicalJson(entry)).digest('hex');
}

/** The chain head: `_id` lookups only (FerretDB v1 would scan `audit` for a sorted find). */
interface AuditHead {
  _id: 'head';
  /** A lower bound of the last seq (its entry holds the hash); writers follow from there. */
  seq: number;
}
export const AUDIT_HEAD_COLLECTION = 'audit_head';

function heads(db: Db): Collection<AuditHead> {
  return db.collection<AuditHead>(AUDIT_HEAD_COLLECTION);
}

export async function appendAudit(db: Db, input: AuditInput): Promise<AuditEntry> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const hint = (await heads(db).findOne({ _id: 'head' }))?.seq ?? 0;
    // The head may lag behind writers (it moves after their insert): follow the chain by _id
    // from the hint to its end, and take the hash from the last entry itself.
    let last = hint > 0 ? await audit(db).findOne({ _id: hint }) : null;
    for (;;) {
      const next = await audit(db).findOne({ _id: (last?.seq ?? 0) + 1 });
      if (!next) break;
      last = next;
    }
    const seq = (last?.seq ?? 0) + 1;
    const body: Omit<AuditEntry, '_id' | 'hash'> = {
      seq,
      at: new Date(),
      actor: input.actor,
      action: input.action,
      object: input.object,
      outcome: input.outcome ?? 'ok',
      ...(input.details ? { details: input.details } : {}),
      ...(input.requestId ? { requestId: input.requestId } : {}),
      ...(input.ip ? { ip: input.ip } : {}),
      prevHash: last?.hash ?? GENESIS,
    };
    const entry: AuditEntry = { _id: seq, ...body, hash: entryHash(body) };
    try {
      await audit(db).insertOne(entry);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
      continue;
    }
    // Move the hint forward (never back: a slower writer's older seq does not win).
    await heads(db)
      .updateOne({ _id: 'head' }, { $max: { seq } }, { upsert: true })
      .catch(() => undefined);
    return entry;
  }
  throw new Error('audit: could not append after 50 attempts (heavy contention on the audit chain)');
}

export interface AuditQuery {
  limit: number;
  /** Entries with seq below this (cursor, newest first). */
  before?: number;
  action?: string;
  objectType?: string;
  objectId?: string;
  tokenId?: string;
}

export async function listAudit(db: Db, q: AuditQuery): Promise<AuditEntry[]> {
  const filter: Record<string, unknown> = {};
  if (q.before !== undefined) filter._id = { $lt: q.before };
  if (q.action) filter.action = { $eq: q.action };
  if (q.objectType) filter['object.type'] = { $eq: q.objectType };
  if (q.objectId) filter['object.id'] = { $eq: q.objectId };
  if (q.tokenId) filter['actor.tokenId'] = { $eq: q.tokenId };
  return audit(db).find(filter).sort({ _id: -1 }).limit(q.limit).toArray();
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  /** The first entry whose hash or link does not match, with the reason. */
  broken?: { seq: number; reason: string };
}

/** Walks the chain in seq order (one scan, entries held in memory) and names the first broken link. */
export async function verifyAuditChain(db: Db): Promise<AuditVerification> {
  const bySeq = new Map<number, AuditEntry>();
  let maxSeq = 0;
  for await (const entry of audit(db).find({})) {
    bySeq.set(entry._id, entry);
    maxSeq = Math.max(maxSeq, entry._id);
  }
  let prevHash = GENESIS;
  let checked = 0;
  for (let seq = 1; seq <= maxSeq; seq++) {
    const entry = bySeq.get(seq);
    if (!entry || entry.seq !== seq) return { ok: false, checked, broken: { seq, reason: 'entry missing (deleted?)' } };
    if (entry.prevHash !== prevHash) {
      return { ok: false, checked, broken: { seq, reason: 'prevHash does not match the previous entry' } };
    }
    const { _id, hash, ...body } = entry;
    void _id;
    if (entryHash(body) !== hash) {
      return { ok: false, checked, broken: { seq, reason: 'content does not match its hash (edited?)' } };
    }
    prevHash = hash;
    checked++;
  }
  return { ok: true, checked };
}
