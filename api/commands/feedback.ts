// Labels sent as feedback for logged predictions: the model must exist (404 otherwise), the labels
// are stored by request id or by row id (a repeat replaces them, lib/monitoring/feedback.ts) and
// the call is audited with how many requests or rows it labelled.
import { saveFeedback, type FeedbackBody } from '../../lib/monitoring/feedback';
import type { ApiContext } from '../context';
import type { Caller } from './caller';
import { mustGetModel } from './model-lookup';

export async function sendFeedback(ctx: ApiContext, caller: Caller, model: string, body: FeedbackBody) {
  await mustGetModel(ctx, model);
  const result = await saveFeedback(ctx.store, model, body, caller.who.subject);
  await caller.audit({
    action: 'model.feedback',
    object: { type: 'model', id: model },
    details: body.rows ? { rows: result.accepted } : { requests: result.accepted },
  });
  return result;
}
