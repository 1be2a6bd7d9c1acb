// Shared response schemas for the OpenAPI document.
import { ROLES } from '../../lib/auth/roles';
import type { ResponseDoc } from '../route';
import type { JsonSchema } from '../zod-json-schema';

export const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string', description: 'What went wrong and how to fix it' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Invalid request: a field, parameter or id is wrong (see errors)',
  401: 'Missing, unknown, revoked or expired token',
  403: 'The token role may not do this, or four-eyes refused it',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Body too large, too deep or with too many items',
  415: 'Body is not JSON',
  422: 'Idempotency-Key reused with a different body',
  429: 'Too many failed token attempts from this address',
  500: 'Stored data failed its integrity check, or an internal error',
  503: 'Temporal or MongoDB unreachable',
};

export function problemResponses(...codes: number[]): Record<number, ResponseDoc> {
  const out: Record<number, ResponseDoc> = {};
  for (const c of codes)
    out[c] = {
      description: PROBLEM_TEXT[c] ?? 'Error',
      schema: problemSchema,
      contentType: 'application/problem+json',
    };
  return out;
}

export const tokenInfoSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    subject: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
    createdAt: { type: 'string', format: 'date-time' },
    createdBy: { type: ['string', 'null'] },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    lastUsedAt: { type: 'string', format: 'date-time' },
  },
};

export const pageOf = (items: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items },
    nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' },
  },
});
