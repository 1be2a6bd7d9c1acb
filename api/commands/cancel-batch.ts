// Cancelling a batch prediction: its starter or an admin (lib/auth/policies.ts), only while it has
// not ended (a workflow that is already gone is the same 409), audited.
import { cancelRefusal } from '../../lib/auth/policies';
import { BATCH_TERMINAL, getBatch, type BatchDoc } from '../../lib/store/batch-predictions';
import { cancelBatch as cancelBatchWorkflow } from '../batch';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { refuse, type Caller } from './caller';

export async function mustGetBatch(ctx: ApiContext, id: string): Promise<BatchDoc> {
  const doc = await getBatch(ctx.store, id);
  if (!doc) throw problems.notFound(`No batch prediction ${id}. Start one with POST /v1/batch-predictions.`);
  return doc;
}

export async function cancelBatch(ctx: ApiContext, caller: Caller, batchId: string): Promise<void> {
  const doc = await mustGetBatch(ctx, batchId);
  const object = { type: 'batch_prediction', id: doc.batchId };
  const refusal = cancelRefusal(caller.who, { noun: 'batch', id: doc.batchId, createdBy: doc.createdBy });
  if (refusal) await refuse(caller, { action: 'batch.cancel', object }, refusal, (m) => problems.forbidden(m));
  const ended =
    BATCH_TERMINAL.includes(doc.status) || !(await cancelBatchWorkflow(await ctx.temporal.client(), doc.batchId));
  if (ended) {
    throw problems.conflict(`Batch ${doc.batchId} already ended (${doc.status}); there is nothing to cancel.`, {
      extra: { batchStatus: doc.status },
    });
  }
  await caller.audit({ action: 'batch.cancel', object });
}
