// Starting a batch prediction: an early, clear 422 for a model that cannot be served (the
// workflow pins and verifies the version itself), then started once like a run
// (api/commands/start-once.ts).
import { randomBytes } from 'node:crypto';
import { createBatch, updateBatch } from '../../lib/store/batch-predictions';
import { getAliasVersion, getModelVersion } from '../../lib/store/models';
import { ServedModelNotFoundError, type ModelRef } from '../../lib/store/served-model';
import { startBatch as startBatchWorkflow } from '../batch';
import type { ApiContext } from '../context';
import type { BatchRequest } from '../routes/batch-predictions';
import { problems } from '../errors';
import type { Caller } from './caller';
import { startOnce } from './start-once';

export function newBatchId(): string {
  return `batch-${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
}

export async function startBatch(
  ctx: ApiContext,
  caller: Caller,
  input: { batch: BatchRequest; idempotency: { key?: string; body: unknown } }
): Promise<{ batchId: string; replayed: boolean }> {
  const b = input.batch;
  const ref: ModelRef = b.version !== undefined ? { version: b.version } : { alias: b.alias ?? 'production' };
  const v =
    ref.version !== undefined
      ? await getModelVersion(ctx.store, b.model, ref.version)
      : await getAliasVersion(ctx.store, b.model, ref.alias);
  if (!v) throw problems.unprocessable(new ServedModelNotFoundError(b.model, ref).message + '.');
  const createdBy = caller.who.subject;
  const { id, replayed } = await startOnce(ctx, caller, {
    noun: 'batch',
    field: 'batchId',
    scope: `${createdBy}:batch`,
    freshId: newBatchId(),
    idempotency: input.idempotency,
    create: (batchId) =>
      createBatch(ctx.store, {
        batchId,
        model: b.model,
        requested: ref.version !== undefined ? { version: ref.version } : { alias: ref.alias },
        input: { path: b.input },
        format: b.format,
        ...(b.idColumn !== undefined ? { idColumn: b.idColumn } : {}),
        maxErrorRate: b.maxErrorRate,
        createdBy,
      }),
    start: (client, batchId) =>
      startBatchWorkflow(
        client,
        {
          batchId,
          model: b.model,
          ref,
          input: { path: b.input },
          format: b.format,
          idColumn: b.idColumn,
          maxErrorRate: b.maxErrorRate,
          queues: { control: ctx.cfg.queues.control, cpu: ctx.cfg.queues.cpu },
          limits: { chunkRows: b.chunkRows, parallelism: b.parallelism },
        },
        createdBy
      ),
    markFailed: (batchId, message) => updateBatch(ctx.store, batchId, { status: 'failed', error: { message } }),
    audit: {
      action: 'batch.start',
      objectType: 'batch_prediction',
      details: { model: b.model, ...ref, input: b.input },
    },
  });
  return { batchId: id, replayed };
}
