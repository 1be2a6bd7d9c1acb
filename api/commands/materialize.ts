// Feature materializations: start one for a view version and range (its id is a hash of the
// request, so repeating it is a no-op; lib/features/materialization-request.ts), and show one
// from its document merged with the workflow's live progress (Temporal down: the document alone).
import type { MaterializeBody } from '../../lib/features/materialization-request';
import { materializationWorkflowId } from '../../lib/features/materialization-request';
import { featureMaterializations, getFeatureView } from '../../lib/store/feature-views';
import { planPartitions } from '../../lib/workflow-safe/feature-partitions';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { materializationProgress, startMaterialization } from '../features';
import type { Caller } from './caller';

export async function materializeView(
  ctx: ApiContext,
  caller: Caller,
  name: string,
  body: MaterializeBody
): Promise<{ materializationId: string; view: string; version: number }> {
  const doc = await getFeatureView(ctx.store, { name, version: body.version });
  if (!doc)
    throw problems.notFound(
      `No feature view ${name}${body.version ? `@v${body.version}` : ''}. Apply one with POST /v1/features.`
    );
  // A range the partition plan refuses (end not after start, too many partitions) is a request
  // the document cannot describe, so it is refused here (422) rather than by the body schema.
  try {
    planPartitions(body.start, body.end, body.partition);
  } catch (err) {
    throw problems.unprocessable(`body.end: ${(err as Error).message}`);
  }
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
    caller.who.subject
  );
  if (started)
    await caller.audit({
      action: 'features.materialize',
      object: { type: 'feature_view', id: `${doc.name}@v${doc.version}` },
      details: { materializationId: id, start: new Date(body.start), end: new Date(body.end) },
    });
  return { materializationId: id, view: doc.name, version: doc.version };
}

export async function describeMaterialization(ctx: ApiContext, name: string, id: string) {
  const doc = await featureMaterializations(ctx.db).findOne({ _id: id, view: name });
  const live =
    !doc || doc.status === 'running'
      ? await ctx.temporal
          .client()
          .then((c) => materializationProgress(c, id))
          .catch(() => null)
      : null;
  if (!doc && !live) throw problems.notFound(`No materialization ${id} of feature view ${name}.`);
  return {
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
  };
}
