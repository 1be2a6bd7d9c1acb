// The audit trail (admin only): newest first with a cursor, and a chain verification.
import { z } from 'zod';
import { listAudit, verifyAuditChain } from '../../lib/store/audit';
import type { ApiContext } from '../context';
import { defineRoute, type RouteDef } from '../route';
import { encodeCursor, ID_RE, q, TOKEN_ID_RE } from '../validation';
import { dateTime, pageOf, passThrough } from './schemas';

const listQuery = z
  .object({
    limit: q.limit(100, 50),
    cursor: q.cursor(z.object({ before: z.number().int().positive() })),
    action: z
      .string()
      .regex(/^[a-z][a-z0-9._]{0,63}$/, 'a dotted action, e.g. run.approve')
      .optional(),
    objectType: z.enum(['run', 'model', 'token']).optional(),
    objectId: q.id(ID_RE),
    tokenId: q.id(TOKEN_ID_RE),
  })
  .strict();

const auditEntrySchema = z.object({
  seq: z.number().int(),
  at: dateTime,
  actor: z.object({ tokenId: z.string(), subject: z.string(), role: z.string() }).nullable(),
  action: z.string(),
  object: z.object({ type: z.string(), id: z.string() }),
  outcome: z.enum(['ok', 'denied', 'failed']),
  details: passThrough('What the action changed').optional(),
  requestId: z.string().optional(),
  ip: z.string().optional(),
  prevHash: z.string(),
  hash: z.string(),
  mac: passThrough('HMAC over (seq, hash) with the keyring').optional(),
});
export type AuditEntryJson = z.infer<typeof auditEntrySchema>;

const verifySchema = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  broken: z.object({ seq: z.number().int(), reason: z.string() }).optional(),
});

export function auditRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/audit',
      operationId: 'listAudit',
      summary: 'List audit entries, newest first',
      tag: 'audit',
      permission: 'audit:read',
      query: listQuery,
      responses: {
        200: { description: 'A page of entries', schema: pageOf(auditEntrySchema) },
      },
      async handler({ query }, _req, res) {
        const items = await listAudit(ctx.db, {
          limit: query.limit + 1,
          before: query.cursor?.before,
          action: query.action,
          objectType: query.objectType,
          objectId: query.objectId,
          tokenId: query.tokenId,
        });
        const page = items.slice(0, query.limit);
        const nextCursor = items.length > query.limit ? encodeCursor({ before: page[page.length - 1].seq }) : null;
        res.json({ items: page.map(({ _id, ...e }) => (void _id, e)), nextCursor });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/audit/verify',
      operationId: 'verifyAudit',
      summary: 'Walk the audit hash chain and report the first broken link',
      tag: 'audit',
      permission: 'audit:read',
      responses: {
        200: { description: 'Verification result', schema: verifySchema },
      },
      async handler(_input, _req, res) {
        res.json(await verifyAuditChain(ctx.store));
      },
    }),
  ];
}
