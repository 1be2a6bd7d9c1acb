// API tokens. Only SHA-256 hashes are stored (lib/auth/tokens.ts); the clear token is
// returned once, at creation. The bootstrap admin token has the fixed id `tok_admin`
// and is replaced when MLOPS_ADMIN_TOKEN changes.
import type { Collection, Db } from 'mongodb';
import { generateToken, hashToken, newTokenId } from '../auth/tokens';
import type { Role } from '../auth/roles';

export const TOKENS_COLLECTION = 'api_tokens';
export const ADMIN_TOKEN_ID = 'tok_admin';

export interface TokenDoc {
  _id: string;
  hash: string;
  /** What the token is for, e.g. "ci pipeline". */
  name: string;
  /** The person or system the token acts for; four-eyes compares subjects. */
  subject: string;
  role: Role;
  createdAt: Date;
  /** Token id of the admin that created it; null for the bootstrap token. */
  createdBy: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt?: Date;
}

/** A token without its hash: what the API shows. */
export type TokenInfo = Omit<TokenDoc, 'hash'>;

export function tokens(db: Db): Collection<TokenDoc> {
  return db.collection<TokenDoc>(TOKENS_COLLECTION);
}

export async function ensureTokenIndexes(db: Db): Promise<void> {
  // One index per command: FerretDB v1 panics on createIndexes with several specs.
  await tokens(db).createIndex({ hash: 1 }, { name: 'hash_unique', unique: true });
  await tokens(db).createIndex({ createdAt: -1 }, { name: 'createdAt' });
}

export function toInfo(doc: TokenDoc): TokenInfo {
  const { hash: _hash, ...info } = doc;
  void _hash;
  return info;
}

export interface NewToken {
  name: string;
  subject: string;
  role: Role;
  createdBy: string;
  expiresAt?: Date | null;
}

/** Creates a token; the clear value is in the result and nowhere else. */
export async function createToken(db: Db, input: NewToken): Promise<{ token: string; info: TokenInfo }> {
  const token = generateToken();
  const doc: TokenDoc = {
    _id: newTokenId(),
    hash: hashToken(token),
    name: input.name,
    subject: input.subject,
    role: input.role,
    createdAt: new Date(),
    createdBy: input.createdBy,
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
  };
  await tokens(db).insertOne(doc);
  return { token, info: toInfo(doc) };
}

/** Stores the bootstrap admin token's hash (idempotent; replaces an older admin token). */
export async function upsertAdminToken(db: Db, token: string): Promise<void> {
  const hash = hashToken(token);
  const existing = await tokens(db).findOne({ _id: ADMIN_TOKEN_ID });
  if (existing?.hash === hash && !existing.revokedAt) return;
  await tokens(db).replaceOne(
    { _id: ADMIN_TOKEN_ID },
    {
      hash,
      name: 'bootstrap admin',
      subject: 'admin',
      role: 'admin',
      createdAt: new Date(),
      createdBy: null,
      expiresAt: null,
      revokedAt: null,
    },
    { upsert: true }
  );
}

/** The active token with this hash, or null when unknown, revoked or expired. */
export async function findActiveToken(db: Db, hash: string, now = new Date()): Promise<TokenDoc | null> {
  const doc = await tokens(db).findOne({ hash: { $eq: hash } });
  if (!doc || doc.revokedAt || (doc.expiresAt && doc.expiresAt <= now)) return null;
  return doc;
}

export async function getToken(db: Db, id: string): Promise<TokenInfo | null> {
  const doc = await tokens(db).findOne({ _id: { $eq: id } });
  return doc ? toInfo(doc) : null;
}

export async function listTokens(
  db: Db,
  opts: { limit: number; after?: string; includeRevoked?: boolean }
): Promise<TokenInfo[]> {
  const filter: Record<string, unknown> = {};
  if (opts.after) filter._id = { $gt: opts.after };
  if (!opts.includeRevoked) filter.revokedAt = null;
  const docs = await tokens(db)
    .find(filter, { projection: { hash: 0 } })
    .sort({ _id: 1 })
    .limit(opts.limit)
    .toArray();
  return docs as TokenInfo[];
}

/** Revokes a token; returns the revoked token, or null when there was none active. */
export async function revokeToken(db: Db, id: string, now = new Date()): Promise<TokenInfo | null> {
  // updateOne + findOne: FerretDB v1 does not support findOneAndUpdate with a projection.
  const res = await tokens(db).updateOne({ _id: { $eq: id }, revokedAt: null }, { $set: { revokedAt: now } });
  if (res.modifiedCount !== 1) return null;
  return getToken(db, id);
}

export async function touchToken(db: Db, id: string, at = new Date()): Promise<void> {
  await tokens(db).updateOne({ _id: { $eq: id } }, { $set: { lastUsedAt: at } });
}
