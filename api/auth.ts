// Bearer-token authentication and role checks. A token is looked up by its SHA-256;
// results are cached briefly (revocations through this process clear the cache at once).
// Failed attempts are counted per client address (see rate-limit.ts).
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from 'mongodb';
import { can, type Permission, type Role, rolesWith } from '../lib/auth/roles';
import { hashToken } from '../lib/auth/tokens';
import { findActiveToken, touchToken, type TokenDoc } from '../lib/store/tokens';
import { problems } from './errors';
import type { ApiMetrics } from './metrics';
import type { FailureLimiter } from './rate-limit';

export interface Principal {
  tokenId: string;
  subject: string;
  role: Role;
  name: string;
}

export function principal(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw new Error('route used principal() without authenticate()');
  return p;
}

export class TokenCache {
  private readonly entries = new Map<string, { doc: TokenDoc | null; until: number }>();
  private readonly lastTouched = new Map<string, number>();
  private readonly refreshing = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 5_000,
    /**
     * Past its ttl, an entry is still answered from memory for this long while a background read
     * refreshes it: the inference server keeps answering, without waiting, while MongoDB is slow
     * or down (a revocation applies once a read succeeds). 0 (the API) always reads.
     */
    private readonly staleMs = 0
  ) {}

  async lookup(hash: string): Promise<TokenDoc | null> {
    const now = Date.now();
    const hit = this.entries.get(hash);
    if (hit && (!hit.doc?.expiresAt || hit.doc.expiresAt.getTime() > now)) {
      if (hit.until > now) return hit.doc;
      if (hit.doc && hit.until + this.staleMs > now) {
        this.refresh(hash);
        return hit.doc;
      }
    }
    return this.read(hash);
  }

  private refresh(hash: string): void {
    if (this.refreshing.has(hash)) return;
    this.refreshing.add(hash);
    this.read(hash)
      .catch(() => undefined)
      .finally(() => this.refreshing.delete(hash));
  }

  private async read(hash: string): Promise<TokenDoc | null> {
    const now = Date.now();
    const doc = await findActiveToken(this.db, hash);
    // Unknown tokens are not cached: guesses would fill the map.
    if (doc) {
      if (this.entries.size > 5_000) this.entries.clear();
      this.entries.set(hash, { doc, until: now + this.ttlMs });
      this.touch(doc._id, now);
    } else this.entries.delete(hash);
    return doc;
  }

  /** Records last use at most once a minute per token, without waiting for it. */
  private touch(id: string, now: number): void {
    if ((this.lastTouched.get(id) ?? 0) + 60_000 > now) return;
    this.lastTouched.set(id, now);
    touchToken(this.db, id).catch(() => undefined);
  }

  invalidate(): void {
    this.entries.clear();
  }
}

export function clientKey(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** The HttpOnly cookie that POST /v1/session sets: a token for the routes a browser calls (the codec). */
export const SESSION_COOKIE = 'mlops_session';

/** The session cookie's token as an Authorization value, or undefined. */
function sessionBearer(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name !== SESSION_COOKIE || !value.length) continue;
    try {
      return `Bearer ${decodeURIComponent(value.join('='))}`;
    } catch {
      return 'invalid';
    }
  }
  return undefined;
}

/**
 * @param opts.sessionCookie also take the token from the session cookie (routes that Temporal
 *   UI calls from a browser, which cannot send an Authorization header).
 */
export function authenticate(
  cache: TokenCache,
  limiter: FailureLimiter,
  metrics?: ApiMetrics,
  opts: { sessionCookie?: boolean } = {}
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? (opts.sessionCookie ? sessionBearer(req) : undefined);
    if (!header) {
      metrics?.authFailures.inc({ reason: 'missing' });
      const signIn = opts.sessionCookie ? ' In a browser, sign in at /v1/session first.' : '';
      next(problems.unauthorized(`Send a bearer token: Authorization: Bearer <token>. Ask an admin for one.${signIn}`));
      return;
    }
    const key = clientKey(req);
    const wait = limiter.blockedFor(key);
    if (wait > 0) {
      metrics?.authFailures.inc({ reason: 'rate_limited' });
      next(problems.tooManyRequests(`Too many failed token attempts from this address. Retry in ${wait} s.`, wait));
      return;
    }
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    if (!match) {
      limiter.recordFailure(key);
      metrics?.authFailures.inc({ reason: 'invalid' });
      next(problems.unauthorized('The Authorization header must be "Bearer <token>".'));
      return;
    }
    cache.lookup(hashToken(match[1])).then(
      (doc) => {
        if (!doc) {
          limiter.recordFailure(key);
          metrics?.authFailures.inc({ reason: 'invalid' });
          next(problems.unauthorized('The token is unknown, revoked or expired. Ask an admin for a new one.'));
          return;
        }
        res.locals.principal = {
          tokenId: doc._id,
          subject: doc.subject,
          role: doc.role,
          name: doc.name,
        } satisfies Principal;
        next();
      },
      () =>
        next(
          problems.unavailable('The token store (MongoDB) is unreachable; retry shortly.', {
            extra: { cause: 'mongodb' },
            headers: { 'Retry-After': '5' },
          })
        )
    );
  };
}

export function requirePermission(permission: Permission): RequestHandler {
  return (_req, res, next) => {
    const p = principal(res);
    if (can(p.role, permission)) {
      next();
      return;
    }
    next(
      problems.forbidden(
        `Role ${p.role} may not do this (needs ${permission}, held by: ${rolesWith(permission).join(', ')}). Use a token with one of those roles.`
      )
    );
  };
}
