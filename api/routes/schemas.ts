// Shared response schemas, in zod: the OpenAPI document is generated from them and the CLI
// reads responses as their z.infer types (the wire form: dates are RFC 3339 strings).
import { z } from 'zod';
import { ROLES } from '../../lib/auth/roles';
import { PROBLEM_BASE, PROBLEM_TYPES } from '../errors';
import type { ResponseDoc } from '../route';

export const dateTime = z.string().datetime();
/**
 * A response type as the process holds it before it is sent: the named date-time fields (strings
 * on the wire, `dateTime` above) as Dates. One definition, the zod schema; this only swaps the type.
 */
export type WithDates<T, K extends keyof T> = Omit<T, K> & {
  [P in K]: undefined extends T[P] ? Date | undefined : Date;
};
/** A stored sub-document the response passes through as it is (documented by its description). */
export const passThrough = (description: string) => z.record(z.unknown()).describe(description);

const problemBase = z.object({
  title: z.string(),
  status: z.number().int(),
  detail: z.string().describe('What went wrong and how to fix it'),
  instance: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** RFC 9457 problem details with the types this status can carry (errors.ts registers them). */
export function problemSchema(status: number) {
  const types = (PROBLEM_TYPES[status] ?? []).map((t) => PROBLEM_BASE + t.type);
  const type = types.length ? z.enum(types as [string, ...string[]]) : z.string();
  return problemBase
    .extend({ type, status: z.literal(status) })
    .passthrough()
    .describe('RFC 9457 problem details');
}

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Invalid request: a field, parameter or id is wrong (see errors)',
  401: 'Missing, unknown, revoked or expired token',
  403: 'The token role may not do this, or a policy (four eyes, owner) refused it',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Body too large, too deep or with too many items',
  415: 'Body is not JSON',
  422: 'Understood but refused (Idempotency-Key reused with a different body, no model to serve ...)',
  429: 'Too many failed token attempts from this address (Retry-After says when to retry)',
  500: 'Stored data failed its integrity check, or an internal error',
  503: 'Temporal or MongoDB unreachable (Retry-After when retrying helps)',
};

export function problemResponses(...codes: number[]): Record<number, ResponseDoc> {
  const out: Record<number, ResponseDoc> = {};
  for (const c of codes)
    out[c] = {
      description: PROBLEM_TEXT[c] ?? 'Error',
      schema: problemSchema(c),
      contentType: 'application/problem+json',
    };
  return out;
}

export const tokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  subject: z.string(),
  role: z.enum(ROLES),
  createdAt: dateTime,
  createdBy: z.string().nullable(),
  expiresAt: dateTime.nullable(),
  revokedAt: dateTime.nullable(),
  lastUsedAt: dateTime.optional(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

const nextCursor = z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page');

export const pageOf = <T extends z.ZodTypeAny>(items: T) => z.object({ items: z.array(items), nextCursor });
