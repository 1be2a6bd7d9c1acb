// The append-only audit trail: who did what to which object, when, from which token.
// Entries form a hash chain: each carries the hash of the previous one and a sequence
// number with a unique index, so two writers cannot both extend the same link (the
// loser retries on the new head). Each entry's (seq, hash) and the chain head in `audit_head`
// are signed (HMAC) with the keyring, which a database editor does not hold: editing,
// reordering or deleting an entry, rewriting the whole chain, or cutting its newest entries
// off are all noticed, and verifyAuditChain names the first bad seq. (Restoring an older copy
// of the whole collection and its head together is not: that needs an anchor outside the database.)
import { createHash } from 'node:crypto';
import { canonicalJson } from '../crypto/canonical-json';
import type { Keyring } from '../crypto/keyring';
import { sign, verify, type Signature } from '../crypto/signing';
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from './errors';
import type { Store } from './db';

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
  /** HMAC over (seq, hash) with the keyring (absent only for stores without one). */
  mac?: Signature;
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

export function entryHash(entry: Omit<AuditEntry, '_id' | 'hash' | 'mac'>): string {
  return createHash('sha256').update(canonicalJson(entry)).digest('hex');
}

/** The chain head: `_id` lookups only (FerretDB v1 would scan `audit` for a sorted find). */
interface AuditHead {
  _id: 'head';
  /** A lower bound of the last seq (its entry holds the hash); writers follow from there. */
  seq: number;
  /** The hash of entry `seq` and its HMAC: the verifier's proof of how long the chain was. */
  hash?: string;
  mac?: Signature;
}

// Separate purposes, so an entry's MAC cannot be copied into the head (which would cut the chain).
const ENTRY_MAC = 'mlops audit entry v1';
const HEAD_MAC = 'mlops audit head v1';
const macOf = (keyring: Keyring, purpose: string, seq: number, hash: string) => sign(keyring, { purpose, seq, hash });
const macOk = (keyring: Keyring, purpose: string, seq: number, hash: string, mac: Signature | undefined) =>
  verify(keyring, { purpose, seq, hash }, mac);
export const AUDIT_HEAD_COLLECTION = 'audit_head';

function heads(db: Db): Collection<AuditHead> {
  return db.collection<AuditHead>(AUDIT_HEAD_COLLECTION);
}

export async function appendAudit(store: Pick<Store, 'db' | 'keyring'>, input: AuditInput): Promise<AuditEntry> {
  const { db, keyring } = store;
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
    const hash = entryHash(body);
    const entry: AuditEntry = {
      _id: seq,
      ...body,
      hash,
      ...(keyring ? { mac: macOf(keyring, ENTRY_MAC, seq, hash) } : {}),
    };
    try {
      await audit(db).insertOne(entry);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
      continue;
    }
    // Move the head forward (never back: a slower writer's older seq does not win; then the
    // upsert collides with the existing head and is dropped).
    const head = { seq, hash, ...(keyring ? { mac: macOf(keyring, HEAD_MAC, seq, hash) } : {}) };
    await heads(db)
      .updateOne({ _id: 'head', seq: { $lt: seq } }, { $set: head }, { upsert: true })
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

/**
 * Walks the chain in seq order (one scan, entries held in memory) and names the first bad seq:
 * a missing entry, a broken link, content that does not match its hash, a MAC that does not match,
 * or a chain that ends before (or differs from) the signed head.
 */
export async function verifyAuditChain(store: Pick<Store, 'db' | 'keyring'>): Promise<AuditVerification> {
  const { db, keyring } = store;
  const bySeq = new Map<number, AuditEntry>();
  let maxSeq = 0;
  for await (const entry of audit(db).find({})) {
    bySeq.set(entry._id, entry);
    maxSeq = Math.max(maxSeq, entry._id);
  }
  const head = await heads(db).findOne({ _id: 'head' });
  let prevHash = GENESIS;
  let checked = 0;
  const broken = (seq: number, reason: string): AuditVerification => ({ ok: false, checked, broken: { seq, reason } });
  for (let seq = 1; seq <= maxSeq; seq++) {
    const entry = bySeq.get(seq);
    if (!entry) return broken(seq, 'entry missing (deleted?)');
    if (entry.seq !== seq) return broken(seq, `entry holds seq ${entry.seq} (moved?)`);
    if (entry.prevHash !== prevHash) return broken(seq, 'prevHash does not match the previous entry (reordered?)');
    const { _id, hash, mac, ...body } = entry;
    void _id;
    if (entryHash(body) !== hash) return broken(seq, 'content does not match its hash (edited?)');
    if (keyring && !macOk(keyring, ENTRY_MAC, seq, hash, mac)) {
      return broken(seq, 'signature does not match (rewritten without the audit key?)');
    }
    prevHash = hash;
    checked++;
  }
  if (!keyring || maxSeq === 0)
    return head && head.seq > maxSeq ? broken(maxSeq + 1, tailCut(head.seq)) : { ok: true, checked };
  if (!head) return broken(1, 'audit_head is missing: the chain cannot be proven complete');
  if (head.hash === undefined || !macOk(keyring, HEAD_MAC, head.seq, head.hash, head.mac)) {
    return broken(Math.min(head.seq, maxSeq + 1), 'audit_head signature does not match (edited?)');
  }
  if (head.seq > maxSeq) return broken(maxSeq + 1, tailCut(head.seq));
  // Entries after the head are fine: the head moves after each insert, so it may lag a writer.
  if (bySeq.get(head.seq)!.hash !== head.hash)
    return broken(head.seq, 'entry differs from the signed head (replaced?)');
  return { ok: true, checked };
}

function tailCut(headSeq: number): string {
  return `entries up to seq ${headSeq} were written but the chain ends before (newest entries deleted?)`;
}
