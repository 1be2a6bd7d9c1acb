// The model registry: models, versions with lineage, alias moves (audited, compare-and-set
// in the store) and artifact downloads that re-verify the sha256 on every read.
import { z } from 'zod';
import { ArtifactIntegrityError, ArtifactNotFoundError, readArtifact } from '../../lib/store/artifacts';
import {
  getAliasHistory,
  getModel,
  getModelVersion,
  listModels,
  listModelVersions,
  moveAlias,
  type ModelDoc,
  type ModelVersionDoc,
} from '../../lib/store/models';
import { principal } from '../auth';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { RouteDef } from '../route';
import { VERSION_STATUSES } from '../../lib/workflow-safe/statuses';
import {
  ALIAS_RE,
  decodeCursor,
  encodeCursor,
  MODEL_NAME_RE,
  parseBody,
  parseQuery,
  pathParam,
  q,
  versionParam,
} from '../validation';
import { pageOf, problemResponses } from './schemas';

const ROLE_RE = /^[a-z][a-z0-9_]{0,31}$/;
const listQuery = z.object({ limit: q.limit(100, 50), cursor: q.cursor() }).strict();
const artifactQuery = z
  .object({ role: z.string().regex(ROLE_RE, 'an artifact role, e.g. serving, onnx, onnx_int8').optional() })
  .strict();

export const moveAliasBody = z
  .object({
    version: z.number().int().min(1),
    reason: z.string().max(500).optional(),
  })
  .strict();

const nameParam = { name: 'name', description: 'Model name', pattern: MODEL_NAME_RE.source };
const versionP = { name: 'version', description: 'Version number', type: 'integer' as const };
const aliasParam = { name: 'alias', description: 'Alias, e.g. production or staging', pattern: ALIAS_RE.source };

function modelView(m: ModelDoc) {
  return {
    name: m._id,
    latestVersion: m.latestVersion,
    aliases: Object.fromEntries(
      Object.entries(m.aliases ?? {}).map(([alias, h]) => [
        alias,
        { version: h.version, runId: h.runId, since: h.since, by: h.by, previous: h.previous },
      ])
    ),
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

function versionSummary(v: ModelVersionDoc) {
  return {
    name: v.name,
    version: v.version,
    runId: v.runId,
    status: v.status,
    aliases: v.aliases,
    createdAt: v.createdAt,
    metrics: v.metrics,
  };
}

function versionView(v: ModelVersionDoc) {
  const { _id, ...rest } = v;
  void _id;
  return rest;
}

const date = { type: 'string', format: 'date-time' };
const aliasHolderSchema = {
  type: 'object',
  properties: {
    version: { type: 'integer' },
    runId: { type: 'string' },
    since: date,
    by: { type: 'string' },
    previous: { type: ['object', 'null'] },
  },
};
const modelSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    latestVersion: { type: 'integer' },
    aliases: { type: 'object', additionalProperties: aliasHolderSchema },
    createdAt: date,
    updatedAt: date,
  },
};
const versionSummarySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'integer' },
    runId: { type: 'string' },
    status: { type: 'string', enum: [...VERSION_STATUSES] },
    aliases: { type: 'array', items: { type: 'string' } },
    createdAt: date,
    metrics: { type: 'object' },
  },
};
const versionSchema = {
  ...versionSummarySchema,
  properties: {
    ...versionSummarySchema.properties,
    artifacts: {
      type: 'object',
      description: 'By role (onnx, model, onnx_int8, serving): { uri, sha256, bytes, mediaType }',
      additionalProperties: { type: 'object' },
    },
    lineage: { type: 'object', description: 'Dataset sha256, spec, code version, parent run, artifact digests' },
    approval: { type: ['object', 'null'] },
    optimisation: { type: 'object' },
    updatedAt: date,
  },
};

export function modelRoutes(ctx: ApiContext): RouteDef[] {
  const mustVersion = async (name: string, version: number): Promise<ModelVersionDoc> => {
    const v = await getModelVersion(ctx.store, name, version);
    if (!v) {
      const m = await getModel(ctx.store, name);
      throw problems.notFound(
        m
          ? `Model ${name} has no version ${version} (latest is ${m.latestVersion}).`
          : `No model ${name}. List models with GET /v1/models.`
      );
    }
    return v;
  };

  return [
    {
      method: 'get',
      path: '/v1/models',
      operationId: 'listModels',
      summary: 'List models, most recently updated first',
      tag: 'models',
      permission: 'read',
      query: listQuery,
      responses: {
        200: { description: 'A page of models', schema: pageOf(modelSchema) },
        ...problemResponses(400, 401),
      },
      async handler(req, res) {
        const query = parseQuery(listQuery, req);
        const cur = decodeCursor(query.cursor, z.object({ skip: z.number().int().min(0).max(1_000_000) }));
        const skip = cur?.skip ?? 0;
        const items = await listModels(ctx.store, { limit: query.limit + 1, skip });
        const page = items.slice(0, query.limit);
        const nextCursor = items.length > query.limit ? encodeCursor({ skip: skip + page.length }) : null;
        res.json({ items: page.map(modelView), nextCursor });
      },
    },
    {
      method: 'get',
      path: '/v1/models/:name',
      operationId: 'getModel',
      summary: 'Show a model: aliases, versions (newest first) and alias history',
      tag: 'models',
      permission: 'read',
      params: [nameParam],
      query: listQuery,
      responses: {
        200: {
          description: 'The model',
          schema: {
            ...modelSchema,
            properties: {
              ...modelSchema.properties,
              versions: { type: 'array', items: versionSummarySchema },
              nextCursor: { type: ['string', 'null'], description: 'Next page of versions' },
              aliasHistory: { type: 'array', items: { type: 'object' } },
            },
          },
        },
        ...problemResponses(400, 401, 404),
      },
      async handler(req, res) {
        const name = pathParam(req, 'name', MODEL_NAME_RE, 'Model name');
        const query = parseQuery(listQuery, req);
        const cur = decodeCursor(query.cursor, z.object({ skip: z.number().int().min(0).max(1_000_000) }));
        const skip = cur?.skip ?? 0;
        const model = await getModel(ctx.store, name);
        if (!model) throw problems.notFound(`No model ${name}. List models with GET /v1/models.`);
        const [versions, history] = await Promise.all([
          listModelVersions(ctx.store, name, { limit: query.limit + 1, skip }),
          getAliasHistory(ctx.store, name, 50),
        ]);
        const page = versions.slice(0, query.limit);
        res.json({
          ...modelView(model),
          versions: page.map(versionSummary),
          nextCursor: versions.length > query.limit ? encodeCursor({ skip: skip + page.length }) : null,
          aliasHistory: history.map(({ _id, ...h }) => (void _id, h)),
        });
      },
    },
    {
      method: 'get',
      path: '/v1/models/:name/versions/:version',
      operationId: 'getModelVersion',
      summary: 'Show a model version with metrics, artifacts and lineage',
      tag: 'models',
      permission: 'read',
      params: [nameParam, versionP],
      responses: { 200: { description: 'The version', schema: versionSchema }, ...problemResponses(400, 401, 404) },
      async handler(req, res) {
        const name = pathParam(req, 'name', MODEL_NAME_RE, 'Model name');
        const version = versionParam(req);
        res.json(versionView(await mustVersion(name, version)));
      },
    },
    {
      method: 'put',
      path: '/v1/models/:name/aliases/:alias',
      operationId: 'moveAlias',
      summary: 'Point an alias (e.g. production) at a version',
      description:
        'Atomic; the previous holder is kept for rollback and the move is audited. `production` may only point at an approved or promoted version; rejected and expired versions are refused for every alias.',
      tag: 'models',
      permission: 'models:alias',
      params: [nameParam, aliasParam],
      body: moveAliasBody,
      responses: {
        200: {
          description: 'The alias and its previous holder; `moved` is false when it already pointed there',
          schema: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              alias: { type: 'string' },
              moved: { type: 'boolean' },
              holder: aliasHolderSchema,
              previous: { type: ['object', 'null'] },
            },
          },
        },
        ...problemResponses(400, 401, 403, 404, 409, 413, 415),
      },
      async handler(req, res) {
        const name = pathParam(req, 'name', MODEL_NAME_RE, 'Model name');
        const alias = pathParam(req, 'alias', ALIAS_RE, 'Alias');
        const body = parseBody(moveAliasBody, req);
        const me = principal(res);
        const target = await mustVersion(name, body.version);
        if (target.status === 'rejected' || target.status === 'expired') {
          throw problems.conflict(`Version ${body.version} of ${name} is ${target.status}; it cannot hold an alias.`, {
            extra: { versionStatus: target.status },
          });
        }
        if (alias === 'production' && !['approved', 'promoted'].includes(target.status)) {
          throw problems.conflict(
            `Version ${body.version} of ${name} is ${target.status}; production may only point at an approved version. Approve its run first.`,
            { extra: { versionStatus: target.status } }
          );
        }
        const result = await moveAlias(ctx.store, {
          name,
          alias,
          version: body.version,
          by: me.subject,
          reason: body.reason,
        });
        if (result.moved) {
          await ctx.audit(req, res, {
            action: 'model.alias.move',
            object: { type: 'model', id: name },
            details: {
              alias,
              version: body.version,
              previous: result.previous?.version ?? null,
              ...(body.reason ? { reason: body.reason } : {}),
            },
          });
        }
        res.json({ name, alias, moved: result.moved, holder: result.holder, previous: result.previous });
      },
    },
    {
      method: 'get',
      path: '/v1/models/:name/versions/:version/artifact',
      operationId: 'downloadArtifact',
      summary: 'Download a version artifact, integrity-checked',
      description:
        'The bytes are re-hashed on every read; a mismatch is a 500 problem naming the artifact, and nothing is sent. `role` defaults to `serving` (what production runs), else `onnx`. The Repr-Digest header carries the sha256.',
      tag: 'models',
      permission: 'read',
      params: [nameParam, versionP],
      query: artifactQuery,
      responses: {
        200: {
          description: 'The artifact bytes',
          contentType: 'application/octet-stream',
          schema: { type: 'string', contentEncoding: 'binary' },
          headers: { 'Repr-Digest': 'sha-256=:<base64>: (RFC 9530)', ETag: 'The sha256' },
        },
        ...problemResponses(400, 401, 404, 500),
      },
      async handler(req, res) {
        const name = pathParam(req, 'name', MODEL_NAME_RE, 'Model name');
        const version = versionParam(req);
        const query = parseQuery(artifactQuery, req);
        const v = await mustVersion(name, version);
        const role = query.role ?? (v.artifacts.serving ? 'serving' : 'onnx');
        const ref = v.artifacts[role];
        if (!ref) {
          throw problems.notFound(
            `Version ${version} of ${name} has no ${role} artifact; it has: ${Object.keys(v.artifacts).join(', ') || 'none'}.`
          );
        }
        let bytes: Buffer;
        try {
          bytes = await readArtifact(ctx.store, ref);
        } catch (err) {
          if (err instanceof ArtifactIntegrityError) {
            ctx.log.error('artifact integrity check failed', { uri: err.uri, model: name, version, role });
            await ctx.audit(req, res, {
              action: 'artifact.integrity_failure',
              object: { type: 'model', id: name },
              outcome: 'failed',
              details: { version, role, uri: err.uri },
            });
            throw problems.integrity(
              `Artifact ${err.uri} (${role} of ${name} v${version}) failed its sha256 check: the stored bytes were changed or lost. Nothing was sent.`,
              { extra: { artifact: err.uri } }
            );
          }
          if (err instanceof ArtifactNotFoundError) {
            throw problems.integrity(
              `Artifact ${err.uri} (${role} of ${name} v${version}) is missing from the store.`,
              {
                extra: { artifact: err.uri },
              }
            );
          }
          throw err;
        }
        const ext = ref.mediaType === 'application/onnx' ? 'onnx' : 'bin';
        res.setHeader(
          'Content-Type',
          ref.mediaType === 'application/onnx' ? 'application/octet-stream' : ref.mediaType
        );
        res.setHeader('Content-Disposition', `attachment; filename="${name}-v${version}-${role}.${ext}"`);
        res.setHeader('Repr-Digest', `sha-256=:${Buffer.from(ref.sha256, 'hex').toString('base64')}:`);
        res.setHeader('ETag', `"${ref.sha256}"`);
        res.setHeader('X-Artifact-Sha256', ref.sha256);
        res.status(200).end(bytes);
      },
    },
  ];
}
