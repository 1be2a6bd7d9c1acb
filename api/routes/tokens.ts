// Token management (admin only). The clear token is in the 201 response of POST and
// nowhere else; lists and lookups show ids, names, subjects and roles.
import { z } from 'zod';
import { ROLES } from '../../lib/auth/roles';
import { getToken, listTokens } from '../../lib/store/tokens';
import { callerOf } from '../commands/caller';
import { issueToken, withdrawToken } from '../commands/tokens';
import { principal } from '../auth';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { defineRoute, type RouteDef } from '../route';
import { encodeCursor, param, q, TOKEN_ID_RE } from '../validation';
import { documented } from '../zod-json-schema';
import { pageOf, problemResponses, tokenInfoSchema } from './schemas';

const SUBJECT_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/;

/** The subject defaults to the name, so one of them must be a subject: the rule, and its documentation. */
const subjectRule = (body: { name: string; subject?: string }, ctx: z.RefinementCtx) => {
  if (body.subject === undefined && !SUBJECT_RE.test(body.name)) {
    ctx.addIssue({
      code: 'custom',
      path: ['subject'],
      message: `give a subject (the person or system the token acts for): required when the name does not match ${SUBJECT_RE.source}`,
    });
  }
};

export const createTokenBody = documented(
  z
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
    .strict()
    .superRefine(subjectRule),
  (s) => ({ ...s, anyOf: [{ required: ['subject'] }, { properties: { name: { pattern: SUBJECT_RE.source } } }] })
);

const listQuery = z
  .object({
    limit: q.limit(100, 50),
    cursor: q.cursor(z.object({ after: z.string().regex(TOKEN_ID_RE) })),
    includeRevoked: z.enum(['true', 'false']).optional(),
  })
  .strict();

const tokenParams = z.object({ id: param.id(TOKEN_ID_RE, 'Token id (tok_...)') });
const createdTokenSchema = tokenInfoSchema.extend({ token: z.string().describe('Shown only in this response') });
export type CreatedTokenJson = z.infer<typeof createdTokenSchema>;
const whoamiSchema = z.object({ tokenId: z.string(), subject: z.string(), role: z.enum(ROLES), name: z.string() });
export type WhoamiJson = z.infer<typeof whoamiSchema>;

const tokenLinks = {
  getToken: { operationId: 'getToken', parameters: { id: '$response.body#/id' } },
  revokeToken: { operationId: 'revokeToken', parameters: { id: '$response.body#/id' } },
};

export function tokenRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
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
          schema: createdTokenSchema,
          headers: { Location: 'The token resource' },
          links: tokenLinks,
        },
      },
      async handler({ body }, req, res) {
        const { token, info } = await issueToken(ctx, callerOf(ctx, req, res), body);
        res
          .status(201)
          .location(`/v1/tokens/${info._id}`)
          .json({ ...present(info), token });
      },
    }),
    defineRoute({
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
          schema: pageOf(tokenInfoSchema),
        },
      },
      async handler({ query }, _req, res) {
        const items = await listTokens(ctx.db, {
          limit: query.limit + 1,
          after: query.cursor?.after,
          includeRevoked: query.includeRevoked === 'true',
        });
        const page = items.slice(0, query.limit);
        const nextCursor = items.length > query.limit ? encodeCursor({ after: page[page.length - 1]._id }) : null;
        res.json({ items: page.map(present), nextCursor });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/tokens/:id',
      operationId: 'getToken',
      summary: 'Show a token (without its value)',
      tag: 'tokens',
      permission: 'tokens:manage',
      params: tokenParams,
      responses: { 200: { description: 'The token', schema: tokenInfoSchema }, ...problemResponses(404) },
      async handler({ params: { id } }, _req, res) {
        const info = await getToken(ctx.db, id);
        if (!info) throw problems.notFound(`No token ${id}. List tokens with GET /v1/tokens.`);
        res.json(present(info));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/tokens/:id',
      operationId: 'revokeToken',
      summary: 'Revoke a token',
      description: 'Takes effect at once in this API process and within 5 s in others.',
      tag: 'tokens',
      permission: 'tokens:manage',
      params: tokenParams,
      responses: { 204: { description: 'Revoked' }, ...problemResponses(404) },
      async handler({ params: { id } }, req, res) {
        await withdrawToken(ctx, callerOf(ctx, req, res), id);
        res.status(204).end();
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/whoami',
      operationId: 'whoami',
      summary: 'The token in use: id, subject and role',
      tag: 'tokens',
      permission: 'read',
      responses: {
        200: { description: 'The caller', schema: whoamiSchema },
      },
      handler(_input, _req, res) {
        res.json(principal(res));
      },
    }),
  ];
}

function present(info: Awaited<ReturnType<typeof getToken>> & object) {
  const { _id, ...rest } = info;
  return { id: _id, ...rest };
}
