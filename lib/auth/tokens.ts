// Bearer tokens: `mlops_` + 43 base64url characters (32 random bytes). Only the
// SHA-256 of a token is stored; with 256 bits of entropy a fast hash is enough (there is
// nothing to brute-force), and lookups by hash avoid timing side channels on compare.
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'mlops_';
const TOKEN_RE = /^mlops_[A-Za-z0-9_-]{43}$/;

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Shape check before any lookup; the admin token from the environment may have any form. */
export function looksLikeToken(value: string): boolean {
  return TOKEN_RE.test(value);
}

/** A short, non-secret id for a token (shown in lists and audit). */
export function newTokenId(): string {
  return 'tok_' + randomBytes(9).toString('base64url');
}
