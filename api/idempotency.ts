// The Idempotency-Key header of the routes that start work (POST /v1/runs, POST
// /v1/batch-predictions): checked at the edge, claimed for the caller with a fresh id, and
// answered with the first id on a replay (same body) or a 422 on reuse with another body, which
// the 202 says (Idempotent-Replayed).
import type { Request, Response } from 'express';
import { claimIdempotencyKey, requestHash } from '../lib/store/idempotency';
import type { ApiContext } from './context';
import { problems } from './errors';

export const IDEMPOTENCY_KEY_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The header as documented on a route that takes it. */
export function idempotencyHeader(what: string) {
  return {
    name: 'Idempotency-Key',
    description: `Client-chosen key; repeats within 24 h return the first ${what}`,
    pattern: IDEMPOTENCY_KEY_RE.source,
  };
}

/**
 * The id the request works under: `freshId` without a key, else the key's (first) id. `scope`
 * keeps keys of different callers (and of different kinds of work) apart.
 */
export async function idempotentId(
  ctx: ApiContext,
  request: { key?: string; body: unknown },
  scope: string,
  freshId: string,
  what: { noun: string; field: string }
): Promise<{ id: string; replayed: boolean; key?: string }> {
  const { key } = request;
  if (key === undefined) return { id: freshId, replayed: false };
  if (!IDEMPOTENCY_KEY_RE.test(key)) {
    throw problems.badRequest(`Idempotency-Key must match ${IDEMPOTENCY_KEY_RE.source}.`, {
      errors: [{ path: 'header.Idempotency-Key', message: 'invalid format' }],
    });
  }
  const claim = await claimIdempotencyKey(ctx.db, {
    scope,
    key,
    requestHash: requestHash(request.body),
    runId: freshId,
  });
  if (claim.outcome === 'conflict') {
    throw problems.unprocessable(
      `Idempotency-Key ${key} was used for a different request (${what.noun} ${claim.runId}). Use a new key for a new ${what.noun}.`,
      { extra: { [what.field]: claim.runId } }
    );
  }
  return { id: claim.runId, replayed: claim.outcome === 'replay', key };
}

/** The key a request carries and the body it covers (a replay must send the same body). */
export function idempotencyOf(req: Request): { key?: string; body: unknown } {
  return { key: req.get('Idempotency-Key'), body: req.body };
}

/** The 202 of started work: Location names it, and a replay says so in Idempotent-Replayed. */
export function acceptedStart(res: Response, location: string, replayed: boolean, body: Record<string, unknown>): void {
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  res
    .status(202)
    .location(location)
    .json({ ...body, location });
}
