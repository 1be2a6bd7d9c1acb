// Token management (admin only). The clear token is in the 201 response of POST and
// nowhere else; lists and lookups show ids, names, subjects and roles.
import { z } from 'zod';
import { ROLES } from '../../lib/auth/roles';
import { createToken, getToken, listTokens, revokeToken } from '../../lib/store/tokens';
import { principal } from '../auth';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { RouteDef } from '../route';
import { decodeCursor, encodeCursor, parseBody, parseQuery, pathParam, q, TOKEN_ID_RE } from '../validation';
import { problemResponses, tokenInfoSchema } from './schemas';

const SUBJECT_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/;

export const createTokenBody = z
  .object({
    name: z.string().min(1).max(100).describe('What the token is for, e.g. "ci pipeline"'),
    subject: z
      .string()
      .regex(SUBJECT_RE, 'letters, digits, . _ @ + - (at most 100)')
      .optional()
      .describe('The person or system the token acts for; four-eyes compares subjects. Default: the name'),
    role: z.enum(ROLES),
    expiresInDays: z.number().int().min(1).max(3650).optional().describe('Omit for a token that does not expire'),
  })
  .strict();

const listQuery = z
  .object({
    limit: q.limit(100, 50),
    cursor: q.cursor(),
    includeRevoked: z.enum(['true', 'false']).optional(),
  })
  .strict();

const idParam = { name: 'id', description: 'Token id (tok_...)', pattern: TOKEN_ID_RE.source };

export function tokenRoutes(ctx: ApiContext): RouteDef[] {
  return [
    {
      method: 'post',
      path: '/v1/tokens',
      operationId: 'createToken',
      summary: 'Create a token',
      description: 'Returns the token once; only its SHA-256 is stored.',
      tag: 'tokens',
      permission: 'tokens:manage',
      body: createTokenBody,
      responses: {
        201: {
          description: 'Created; `token` is shown only in this response',
          schema: {
            ...tokenInfoSchema,
            properties: { ...(tokenInfoSchema.properties as object), token: { type: 'string' } },
          },
          headers: { Location: 'The token resource' },
        },
        ...problemResponses(400, 401, 403, 413, 415),
      },
      async handler(req, res) {
        const body = parseBody(createTokenBody, req);
        const me = principal(res);
        const subject = body.subject ?? body.name;
        if (!SUBJECT_RE.test(subject)) {
          throw problems.badRequest('Give a subject (the person or system the token acts for): the name is not one.', {
            errors: [{ path: 'body.subject', message: `required when the name does not match ${SUBJECT_RE.source}` }],
          });
        }
        const { token, info } = await createToken(ctx.db, {
          name: body.name,
          subject,
          role: body.role,
          createdBy: me.tokenId,
          expiresAt: body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000) : null,
        });
        await ctx.audit(req, res, {
          action: 'token.create',
          object: { type: 'token', id: info._id },
          details: { name: info.name, subject: info.subject, role: info.role },
        });
        res
          .status(201)
          .location(`/v1/tokens/${info._id}`)
          .json({ ...present(info), token });
      },
    },
    {
      method: 'get',
      path: '/v1/tokens',
      operationId: 'listTokens',
      summary: 'List tokens',
      tag: 'tokens',
      permission: 'tokens:manage',
      query: listQuery,
      responses: {
        200: {
          description: 'A page of tokens, oldest id first',
          schema: {
            type: 'object',
            properties: { items: { type: 'array', items: tokenInfoSchema }, nextCursor: { type: ['string', 'null'] } },
          },
        },
        ...problemResponses(400, 401, 403),
      },
      async handler(req, res) {
        const query = parseQuery(listQuery, req);
        const after = decodeCursor(query.cursor, z.object({ after: z.string().regex(TOKEN_ID_RE) }));
        const items = await listTokens(ctx.db, {
          limit: query.limit + 1,
          after: after?.after,
          includeRevoked: query.includeRevoked === 'true',
        });
        const page = items.slice(0, query.limit);
        const nextCursor = items.length > query.limit ? encodeCursor({ after: page[page.length - 1]._id }) : null;
        res.json({ items: page.map(present), nextCursor });
      },
    },
    {
      method: 'get',
      path: '/v1/tokens/:id',
      operationId: 'getToken',
      summary: 'Show a token (without its value)',
      tag: 'tokens',
      permission: 'tokens:manage',
      params: [idParam],
      responses: {
        200: { description: 'The token', schema: tokenInfoSchema },
        ...problemResponses(400, 401, 403, 404),
      },
      async handler(req, res) {
        const id = pathParam(req, 'id', TOKEN_ID_RE, 'Token id');
        const info = await getToken(ctx.db, id);
        if (!info) throw problems.notFound(`No token ${id}. List tokens with GET /v1/tokens.`);
        res.json(present(info));
      },
    },
    {
      method: 'delete',
      path: '/v1/tokens/:id',
      operationId: 'revokeToken',
      summary: 'Revoke a token',
      description: 'Takes effect at once in this API process and within 5 s in others.',
      tag: 'tokens',
      permission: 'tokens:manage',
      params: [idParam],
      responses: { 204: { description: 'Revoked' }, ...problemResponses(400, 401, 403, 404) },
      async handler(req, res) {
        const id = pathParam(req, 'id', TOKEN_ID_RE, 'Token id');
        const info = await revokeToken(ctx.db, id);
        if (!info) throw problems.notFound(`No active token ${id}. It may be revoked already.`);
        ctx.tokenCache.invalidate();
        await ctx.audit(req, res, { action: 'token.revoke', object: { type: 'token', id } });
        res.status(204).end();
      },
    },
    {
      method: 'get',
      path: '/v1/whoami',
      operationId: 'whoami',
      summary: 'The token in use: id, subject and role',
      tag: 'tokens',
      permission: 'read',
      responses: {
        200: {
          description: 'The caller',
          schema: {
            type: 'object',
            properties: {
              tokenId: { type: 'string' },
              subject: { type: 'string' },
              role: { type: 'string' },
              name: { type: 'string' },
            },
          },
        },
        ...problemResponses(401),
      },
      handler(_req, res) {
        res.json(principal(res));
      },
    },
  ];
}

function present(info: Awaited<ReturnType<typeof getToken>> & object) {
  const { _id, ...rest } = info;
  return { id: _id, ...rest };
}
