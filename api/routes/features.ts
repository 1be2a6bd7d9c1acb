// Feature store routes: list views, show one (versions, schema, freshness, last
// materialization), apply a features file, start a materialization and show its progress.
// The logic lives in lib/features/ (apply, catalog) and api/commands/ (apply-features,
// materialize); these handlers call and answer.
import { z } from 'zod';
import { describeView, listViews } from '../../lib/features/catalog';
import { AGGREGATES, FEATURE_NAME_RE, featuresFileSchema } from '../../lib/features/definition';
import { materializeBody } from '../../lib/features/materialization-request';
import { applyFeaturesFile } from '../commands/apply-features';
import { callerOf } from '../commands/caller';
import { describeMaterialization, materializeView } from '../commands/materialize';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { defineRoute, type RouteDef } from '../route';
import { ID_RE, param } from '../validation';
import { MATERIALIZATION_STATUSES } from '../../lib/workflow-safe/statuses';
import { dateTime, problemResponses } from './schemas';

const viewParams = z.object({ view: param.id(FEATURE_NAME_RE, 'Feature view name') });
const materializationParams = viewParams.extend({ id: param.id(ID_RE, 'Materialization id (= workflow id)') });

const featureSchema = z.object({
  name: z.string(),
  kind: z.enum(['column', 'log', 'ratio', 'bucket', 'window']),
  columns: z.array(z.string()),
  agg: z.enum(AGGREGATES).optional(),
  windowMs: z.number().optional(),
  edges: z.array(z.number()).optional(),
});

const lastMaterializationSchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    start: dateTime,
    end: dateTime,
    partitions: z.number().int(),
    rows: z.number().int(),
    onlineWrites: z.number().int(),
    endedAt: dateTime.optional(),
    workflowId: z.string(),
  })
  .nullable();

const viewSummarySchema = z.object({
  name: z.string(),
  version: z.number().int(),
  ref: z.string().describe('name@vN'),
  hash: z.string(),
  entity: z.object({ name: z.string(), keys: z.array(z.string()) }).passthrough(),
  source: z.object({ path: z.string() }).passthrough(),
  timestamp: z.string().optional().describe('The event-time column'),
  ttlMs: z.number(),
  features: z.array(featureSchema),
  createdAt: dateTime,
  createdBy: z.string(),
  lastMaterialization: lastMaterializationSchema,
});
export type FeatureViewSummaryJson = z.infer<typeof viewSummarySchema>;

const viewDetailSchema = viewSummarySchema.extend({
  versions: z.array(
    z.object({ version: z.number().int(), hash: z.string(), createdAt: dateTime, createdBy: z.string() })
  ),
  freshness: z.object({ materializedUntil: dateTime, lagMs: z.number() }).nullable(),
});
export type FeatureViewJson = z.infer<typeof viewDetailSchema>;

const appliedSchema = z.object({
  views: z.array(
    z.object({
      name: z.string(),
      version: z.number().int(),
      hash: z.string(),
      created: z.boolean().describe('false: the content was applied before and keeps its version'),
    })
  ),
});
export type AppliedFeaturesJson = z.infer<typeof appliedSchema>;

const startedSchema = z.object({
  materializationId: z.string(),
  view: z.string(),
  version: z.number().int(),
  location: z.string(),
});
export type StartedMaterializationJson = z.infer<typeof startedSchema>;

const materializationSchema = z.object({
  materializationId: z.string(),
  view: z.string(),
  version: z.number().int().nullable(),
  status: z.enum(MATERIALIZATION_STATUSES),
  start: dateTime.optional(),
  end: dateTime.optional(),
  partitionsDone: z.number().int(),
  partitionsTotal: z.number().int().nullable(),
  rows: z.number().int(),
  onlineWrites: z.number().int(),
  skipped: z.number().int().nullable().describe('Partitions found done already (live only)'),
  error: z.string().nullable(),
  startedAt: dateTime.optional(),
  endedAt: dateTime.optional(),
});
export type MaterializationJson = z.infer<typeof materializationSchema>;

export function featureRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/features',
      operationId: 'listFeatureViews',
      summary: 'List feature views (latest version of each, with its last materialization)',
      tag: 'features',
      permission: 'read',
      responses: {
        200: { description: 'Feature views', schema: z.object({ items: z.array(viewSummarySchema) }) },
      },
      async handler(_input, _req, res) {
        res.json({ items: await listViews(ctx.store) });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/features',
      operationId: 'applyFeatures',
      summary: 'Apply a features file: entities and feature views, each versioned by the hash of its content',
      description:
        'Each view is checked against its source under MLOPS_DATASETS_DIR (columns exist, timestamps parse). Unchanged views keep their version (`created: false`). See docs/features.md.',
      tag: 'features',
      permission: 'runs:start',
      body: featuresFileSchema,
      responses: {
        200: { description: 'The version of every view in the file', schema: appliedSchema },
        ...problemResponses(422),
      },
      async handler({ body }, req, res) {
        res.json(await applyFeaturesFile(ctx, callerOf(ctx, req, res), body));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/features/:view',
      operationId: 'getFeatureView',
      summary: 'Show a feature view: versions, schema, freshness and last materialization',
      tag: 'features',
      permission: 'read',
      params: viewParams,
      responses: { 200: { description: 'The view', schema: viewDetailSchema }, ...problemResponses(404) },
      async handler({ params }, _req, res) {
        const view = await describeView(ctx.store, params.view);
        if (!view) throw problems.notFound(`No feature view ${params.view}. Apply one with POST /v1/features.`);
        res.json(view);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/features/:view/materialize',
      operationId: 'materializeFeatureView',
      summary: 'Materialize a view over a time range: offline partitions and the online store',
      description:
        'Runs the durable `featureMaterialization` workflow on the CPU fleet. The same view version, range and partition width always name the same materialization: repeating it is a no-op.',
      tag: 'features',
      permission: 'runs:start',
      params: viewParams,
      body: materializeBody,
      responses: {
        202: {
          description: 'Started (or already running)',
          schema: startedSchema,
          headers: { Location: '/v1/features/{view}/materializations/{materializationId}' },
          links: {
            getFeatureMaterialization: {
              operationId: 'getFeatureMaterialization',
              parameters: { view: '$response.body#/view', id: '$response.body#/materializationId' },
            },
          },
        },
        ...problemResponses(404, 422, 503),
      },
      async handler({ params, body }, req, res) {
        const started = await materializeView(ctx, callerOf(ctx, req, res), params.view, body);
        const location = `/v1/features/${started.view}/materializations/${started.materializationId}`;
        res
          .status(202)
          .location(location)
          .json({ ...started, location });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/features/:view/materializations/:id',
      operationId: 'getFeatureMaterialization',
      summary: 'Show a materialization with its progress (partitions done and total)',
      tag: 'features',
      permission: 'read',
      params: materializationParams,
      responses: {
        200: { description: 'The materialization', schema: materializationSchema },
        ...problemResponses(404),
      },
      async handler({ params }, _req, res) {
        res.json(await describeMaterialization(ctx, params.view, params.id));
      },
    }),
  ];
}
