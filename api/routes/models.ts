// The model registry: models, versions with lineage, alias moves (audited, compare-and-set
// in the store) and artifact downloads that re-verify the sha256 on every read.
import { z } from 'zod';
import {
  getAliasHistory,
  listModels,
  listModelVersions,
  type ModelDoc,
  type ModelVersionDoc,
} from '../../lib/store/models';
import { callerOf } from '../commands/caller';
import { downloadArtifact } from '../commands/download-artifact';
import { mustGetModel, mustGetVersion } from '../commands/model-lookup';
import { moveAlias } from '../commands/move-alias';
import type { ApiContext } from '../context';
import { defineRoute, type RouteDef } from '../route';
import { VERSION_STATUSES } from '../../lib/workflow-safe/statuses';
import { ALIAS_RE, MODEL_NAME_RE, offsetPage, param, q } from '../validation';
import { documented } from '../zod-json-schema';
import { dateTime, pageOf, passThrough, problemResponses } from './schemas';

const ROLE_RE = /^[a-z][a-z0-9_]{0,31}$/;
const artifactQuery = z
  .object({ role: z.string().regex(ROLE_RE, 'an artifact role, e.g. serving, onnx, onnx_int8').optional() })
  .strict();

export const moveAliasBody = z
  .object({
    version: z.number().int().min(1),
    reason: z.string().max(500).optional(),
  })
  .strict();

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

const aliasHolderSchema = z.object({
  version: z.number().int(),
  runId: z.string(),
  since: dateTime,
  by: z.string(),
  previous: z.object({ version: z.number().int(), runId: z.string(), since: dateTime }).nullable(),
});
const modelSchema = z.object({
  name: z.string(),
  latestVersion: z.number().int(),
  aliases: z.record(aliasHolderSchema),
  createdAt: dateTime,
  updatedAt: dateTime,
});
export type ModelJson = z.infer<typeof modelSchema>;
const versionSummarySchema = z.object({
  name: z.string(),
  version: z.number().int(),
  runId: z.string(),
  status: z.enum(VERSION_STATUSES),
  aliases: z.array(z.string()),
  createdAt: dateTime,
  metrics: passThrough('Evaluation summary'),
});
export type VersionSummaryJson = z.infer<typeof versionSummarySchema>;
const versionSchema = versionSummarySchema.extend({
  artifacts: z
    .record(z.object({ uri: z.string(), sha256: z.string(), bytes: z.number().int(), mediaType: z.string() }))
    .describe('By role (onnx, model, onnx_int8, serving)'),
  lineage: passThrough('Dataset sha256, spec, code version, parent run, artifact digests'),
  approval: z
    .object({ decision: z.string(), approver: z.string(), comment: z.string().optional(), at: dateTime })
    .nullable()
    .optional(),
  optimisation: passThrough('Quantisation and its measured effect').optional(),
  updatedAt: dateTime,
});
export type VersionJson = z.infer<typeof versionSchema>;
const modelDetailSchema = modelSchema.extend({
  versions: z.array(versionSummarySchema),
  nextCursor: z.string().nullable().describe('Next page of versions'),
  aliasHistory: z.array(
    z.object({
      name: z.string(),
      alias: z.string(),
      version: z.number().int(),
      previous: z.number().int().nullable(),
      runId: z.string(),
      by: z.string(),
      reason: z.string().optional(),
      at: dateTime,
    })
  ),
});
export type ModelDetailJson = z.infer<typeof modelDetailSchema>;
const aliasMovedSchema = z.object({
  name: z.string(),
  alias: z.string(),
  moved: z.boolean(),
  holder: aliasHolderSchema,
  previous: aliasHolderSchema.shape.previous,
});
export type AliasMovedJson = z.infer<typeof aliasMovedSchema>;

const skipCursor = q.cursor(z.object({ skip: z.number().int().min(0).max(1_000_000) }));
const listQuery = z.object({ limit: q.limit(100, 50), cursor: skipCursor }).strict();
const modelParams = z.object({ name: param.id(MODEL_NAME_RE, 'Model name') });
const versionParams = modelParams.extend({ version: param.version() });
const aliasParams = modelParams.extend({ alias: param.id(ALIAS_RE, 'Alias, e.g. production or staging') });
const versionLink = (version: string) => ({
  getModelVersion: {
    operationId: 'getModelVersion',
    parameters: { name: '$response.body#/name', version },
  },
});

export function modelRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/models',
      operationId: 'listModels',
      summary: 'List models, most recently updated first',
      tag: 'models',
      permission: 'read',
      query: listQuery,
      responses: { 200: { description: 'A page of models', schema: pageOf(modelSchema) } },
      async handler({ query }, _req, res) {
        const page = await offsetPage(query, (limit, skip) => listModels(ctx.store, { limit, skip }));
        res.json({ items: page.items.map(modelView), nextCursor: page.nextCursor });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/models/:name',
      operationId: 'getModel',
      summary: 'Show a model: aliases, versions (newest first) and alias history',
      tag: 'models',
      permission: 'read',
      params: modelParams,
      query: listQuery,
      responses: { 200: { description: 'The model', schema: modelDetailSchema }, ...problemResponses(404) },
      async handler({ params: { name }, query }, _req, res) {
        const model = await mustGetModel(ctx, name);
        const [versions, history] = await Promise.all([
          offsetPage(query, (limit, skip) => listModelVersions(ctx.store, name, { limit, skip })),
          getAliasHistory(ctx.store, name, 50),
        ]);
        res.json({
          ...modelView(model),
          versions: versions.items.map(versionSummary),
          nextCursor: versions.nextCursor,
          aliasHistory: history.map(({ _id, ...h }) => (void _id, h)),
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/models/:name/versions/:version',
      operationId: 'getModelVersion',
      summary: 'Show a model version with metrics, artifacts and lineage',
      tag: 'models',
      permission: 'read',
      params: versionParams,
      responses: { 200: { description: 'The version', schema: versionSchema }, ...problemResponses(404) },
      async handler({ params: { name, version } }, _req, res) {
        res.json(versionView(await mustGetVersion(ctx, name, version)));
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/models/:name/aliases/:alias',
      operationId: 'moveAlias',
      summary: 'Point an alias (e.g. production) at a version',
      description:
        'Atomic; the previous holder is kept for rollback and the move is audited. `production` may only point at an approved or promoted version; rejected and expired versions are refused for every alias.',
      tag: 'models',
      permission: 'models:alias',
      params: aliasParams,
      body: moveAliasBody,
      responses: {
        200: {
          description: 'The alias and its previous holder; `moved` is false when it already pointed there',
          schema: aliasMovedSchema,
          links: versionLink('$response.body#/holder/version'),
        },
        ...problemResponses(404, 409),
      },
      async handler({ params: { name, alias }, body }, req, res) {
        res.json(await moveAlias(ctx, callerOf(ctx, req, res), { name, alias, ...body }));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/models/:name/versions/:version/artifact',
      operationId: 'downloadArtifact',
      summary: 'Download a version artifact, integrity-checked',
      description:
        'The bytes are re-hashed on every read; a mismatch is a 500 problem naming the artifact, and nothing is sent. `role` defaults to `serving` (what production runs), else `onnx`. The Repr-Digest header carries the sha256.',
      tag: 'models',
      permission: 'read',
      params: versionParams,
      query: artifactQuery,
      responses: {
        200: {
          description: 'The artifact bytes',
          contentType: 'application/octet-stream',
          schema: documented(z.string(), () => ({ type: 'string', contentEncoding: 'binary' })),
          headers: { 'Repr-Digest': 'sha-256=:<base64>: (RFC 9530)', ETag: 'The sha256' },
        },
        ...problemResponses(404, 500),
      },
      async handler({ params: { name, version }, query }, req, res) {
        const { ref, role, bytes } = await downloadArtifact(ctx, callerOf(ctx, req, res), { name, version, ...query });
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
    }),
  ];
}
