// Feature store routes: list views, show one (versions, schema, freshness, last
// materialization), apply a features file, start a materialization and show its progress.
// The logic lives in lib/features/ (apply, catalog); these handlers validate, call and answer.
import type { Request } from 'express';
import { FeatureDefinitionError, applyFeatures } from '../../lib/features/apply';
import { describeView, listViews } from '../../lib/features/catalog';
import { FEATURE_NAME_RE, featuresFileSchema } from '../../lib/features/definition';
import { materializationWorkflowId, materializeBody } from '../../lib/features/materialization-request';
import { featureMaterializations, getFeatureView } from '../../lib/store/feature-views';
import { principal } from '../auth';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { materializationProgress, startMaterialization } from '../features';
import type { RouteDef } from '../route';
import { ID_RE, parseBody, pathParam } from '../validation';
import { problemResponses } from './schemas';

const viewParam = { name: 'view', description: 'Feature view name', pattern: FEATURE_NAME_RE.source };
const idParam = { name: 'id', description: 'Materialization id (= workflow id)', pattern: ID_RE.source };
const object = { type: 'object' } as const;

export function featureRoutes(ctx: ApiContext): RouteDef[] {
  const viewName = (req: Request) => pathParam(req, 'view', FEATURE_NAME_RE, 'Feature view name');
  return [
    {
      method: 'get',
      path: '/v1/features',
      operationId: 'listFeatureViews',
      summary: 'List feature views (latest version of each, with its last materialization)',
      tag: 'features',
      permission: 'read',
      responses: {
        200: { description: 'Feature views', schema: { type: 'object', properties: { items: { type: 'array' } } } },
        ...problemResponses(401),
      },
      async handler(_req, res) {
        res.json({ items: await listViews(ctx.store) });
      },
    },
    {
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
        200: { description: 'The version of every view in the file', schema: object },
        ...problemResponses(400, 401, 403, 415, 422),
      },
      async handler(req, res) {
        const file = parseBody(featuresFileSchema, req);
        try {
          const { views } = await applyFeatures(ctx.store, ctx.cfg.datasetsDir, file, principal(res).subject);
          const created = views.filter((v) => v.created);
          if (created.length > 0)
            await ctx.audit(req, res, {
              action: 'features.apply',
              object: { type: 'feature_view', id: created.map((v) => `${v.name}@v${v.version}`).join(',') },
            });
          res.json({ views });
        } catch (err) {
          if (err instanceof FeatureDefinitionError)
            throw problems.unprocessable(err.message, {
              errors: err.errors.map((e) => ({ path: `body.${e.path}`, message: e.message })),
            });
          throw err;
        }
      },
    },
    {
      method: 'get',
      path: '/v1/features/:view',
      operationId: 'getFeatureView',
      summary: 'Show a feature view: versions, schema, freshness and last materialization',
      tag: 'features',
      permission: 'read',
      params: [viewParam],
      responses: { 200: { description: 'The view', schema: object }, ...problemResponses(400, 401, 404) },
      async handler(req, res) {
        const name = viewName(req);
        const view = await describeView(ctx.store, name);
        if (!view) throw problems.notFound(`No feature view ${name}. Apply one with POST /v1/features.`);
        res.json(view);
      },
    },
    {
      method: 'post',
      path: '/v1/features/:view/materialize',
      operationId: 'materializeFeatureView',
      summary: 'Materialize a view over a time range: offline partitions and the online store',
      description:
        'Runs the durable `featureMaterialization` workflow on the CPU fleet. The same view version, range and partition width always name the same materialization: repeating it is a no-op.',
      tag: 'features',
      permission: 'runs:start',
      params: [viewParam],
      body: materializeBody,
      responses: {
        202: { description: 'Started (or already running)', schema: object },
        ...problemResponses(400, 401, 403, 404, 415, 503),
      },
      async handler(req, res) {
        const name = viewName(req);
        const body = parseBody(materializeBody, req);
        const doc = await getFeatureView(ctx.store, { name, version: body.version });
        if (!doc)
          throw problems.notFound(
            `No feature view ${name}${body.version ? `@v${body.version}` : ''}. Apply one with POST /v1/features.`
          );
        const id = materializationWorkflowId(doc.name, doc.version, body);
        const client = await ctx.temporal.client();
        const started = await startMaterialization(
          client,
          {
            materializationId: id,
            view: doc.name,
            version: doc.version,
            start: body.start,
            end: body.end,
            partitionMs: body.partition,
            parallelism: body.parallelism,
            queues: { control: ctx.cfg.queues.control, cpu: ctx.cfg.queues.cpu },
          },
          principal(res).subject
        );
        if (started)
          await ctx.audit(req, res, {
            action: 'features.materialize',
            object: { type: 'feature_view', id: `${doc.name}@v${doc.version}` },
            details: { materializationId: id, start: new Date(body.start), end: new Date(body.end) },
          });
        const location = `/v1/features/${doc.name}/materializations/${id}`;
        res
          .status(202)
          .location(location)
          .json({ materializationId: id, view: doc.name, version: doc.version, location });
      },
    },
    {
      method: 'get',
      path: '/v1/features/:view/materializations/:id',
      operationId: 'getFeatureMaterialization',
      summary: 'Show a materialization with its progress (partitions done and total)',
      tag: 'features',
      permission: 'read',
      params: [viewParam, idParam],
      responses: { 200: { description: 'The materialization', schema: object }, ...problemResponses(400, 401, 404) },
      async handler(req, res) {
        const name = viewName(req);
        const id = pathParam(req, 'id', ID_RE, 'Materialization id');
        const doc = await featureMaterializations(ctx.db).findOne({ _id: id, view: name });
        const live =
          !doc || doc.status === 'running'
            ? await ctx.temporal
                .client()
                .then((c) => materializationProgress(c, id))
                .catch(() => null)
            : null;
        if (!doc && !live) throw problems.notFound(`No materialization ${id} of feature view ${name}.`);
        res.json({
          materializationId: id,
          view: name,
          version: doc?.version ?? null,
          status: doc?.status ?? 'running',
          start: doc?.start,
          end: doc?.end,
          partitionsDone: Math.max(live?.partitionsDone ?? 0, doc?.partitions.length ?? 0),
          partitionsTotal: live?.partitionsTotal ?? doc?.partitionsTotal ?? null,
          rows: doc?.rows ?? 0,
          onlineWrites: doc?.onlineWrites ?? 0,
          skipped: live?.skipped ?? null,
          error: doc?.error ?? null,
          startedAt: doc?.startedAt,
          endedAt: doc?.endedAt,
        });
      },
    },
  ];
}
