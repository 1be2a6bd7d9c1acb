// The audit trail (admin only): newest first with a cursor, and a chain verification.
import { z } from 'zod';
import { listAudit, verifyAuditChain } from '../../lib/store/audit';
import type { ApiContext } from '../context';
import type { RouteDef } from '../route';
import { decodeCursor, encodeCursor, ID_RE, parseQuery, q, TOKEN_ID_RE } from '../validation';
import { problemResponses } from './schemas';

const listQuery = z
  .object({
    limit: q.limit(100, 50),
    cursor: q.cursor(),
    action: z
      .string()
      .regex(/^[a-z][a-z0-9._]{0,63}$/, 'a dotted action, e.g. run.approve')
      .optional(),
    objectType: z.enum(['run', 'model', 'token']).optional(),
    objectId: q.id(ID_RE),
    tokenId: q.id(TOKEN_ID_RE),
  })
  .strict();

const auditEntrySchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    actor: {
      type: ['object', 'null'],
      properties: { tokenId: { type: 'string' }, subject: { type: 'string' }, role: { type: 'string' } },
    },
    action: { type: 'string' },
    object: { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' } } },
    outcome: { type: 'string', enum: ['ok', 'denied', 'failed'] },
    details: { type: 'object' },
    requestId: { type: 'string' },
    prevHash: { type: 'string' },
    hash: { type: 'string' },
  },
};

export function auditRoutes(ctx: ApiContext): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/v1/audit',
      operationId: 'listAudit',
      summary: 'List audit entries, newest first',
      tag: 'audit',
      permission: 'audit:read',
      query: listQuery,
      responses: {
        200: {
          description: 'A page of entries',
          schema: {
            type: 'object',
            properties: { items: { type: 'array', items: auditEntrySchema }, nextCursor: { type: ['string', 'null'] } },
          },
        },
        ...problemResponses(400, 401, 403),
      },
      async handler(req, res) {
        const query = parseQuery(listQuery, req);
        const cur = decodeCursor(query.cursor, z.object({ before: z.number().int().positive() }));
        const items = await listAudit(ctx.db, {
          limit: query.limit + 1,
          before: cur?.before,
          action: query.action,
          objectType: query.objectType,
          objectId: query.objectId,
          tokenId: query.tokenId,
        });
        const page = items.slice(0, query.limit);
        const nextCursor = items.length > query.limit ? encodeCursor({ before: page[page.length - 1].seq }) : null;
        res.json({ items: page.map(({ _id, ...e }) => (void _id, e)), nextCursor });
      },
    },
    {
      method: 'get',
      path: '/v1/audit/verify',
      operationId: 'verifyAudit',
      summary: 'Walk the audit hash chain and report the first broken link',
      tag: 'audit',
      permission: 'audit:read',
      responses: {
        200: {
          description: 'Verification result',
          schema: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              checked: { type: 'integer' },
              broken: { type: 'object', properties: { seq: { type: 'integer' }, reason: { type: 'string' } } },
            },
          },
        },
        ...problemResponses(401, 403),
      },
      async handler(_req, res) {
        res.json(await verifyAuditChain(ctx.store));
      },
    },
  ];
}
