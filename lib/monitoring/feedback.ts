// Labels that arrive after the predictions (POST /v1/models/{name}/feedback): one document per
// (model, request id), holding one label per row of the logged request, in order. A label sent
// again for the same request replaces the earlier one, so a client may retry freely. Monitoring
// windows join them with the prediction log by request id (lib/monitoring/quality.ts).
import { z } from 'zod';
import type { Store } from '../store/db';
import { feedback } from '../store/monitoring';

/** Requests per call, rows per request, characters per label: the edge's limits. */
export const FEEDBACK_LIMITS = { items: 1000, labels: 10_000, labelChars: 256 };

const label = z.union([z.string().max(FEEDBACK_LIMITS.labelChars), z.number().finite()]);

export const feedbackBodySchema = z
  .object({
    items: z
      .array(
        z
          .object({
            /** The `id` of the inference request (the response's `id`; the server's X-Request-Id when none was sent). */
            requestId: z.string().min(1).max(256),
            /** One label per row of that request; `label` is the short form for a one-row request. */
            labels: z.array(label).min(1).max(FEEDBACK_LIMITS.labels).optional(),
            label: label.optional(),
          })
          .strict()
          .refine((i) => (i.labels === undefined) !== (i.label === undefined), {
            message: 'give either `label` (one row) or `labels` (one per row of the request)',
          })
      )
      .min(1)
      .max(FEEDBACK_LIMITS.items),
  })
  .strict();
export type FeedbackBody = z.output<typeof feedbackBodySchema>;

export async function saveFeedback(store: Pick<Store, 'db'>, model: string, body: FeedbackBody, by: string) {
  const at = new Date();
  const ops = body.items.map((i) => ({
    replaceOne: {
      filter: { _id: `${model}:${i.requestId}` },
      replacement: { model, requestId: i.requestId, labels: i.labels ?? [i.label!], at, by },
      upsert: true,
    },
  }));
  const res = await feedback(store.db).bulkWrite(ops, { ordered: false });
  return { accepted: body.items.length, created: res.upsertedCount, replaced: res.modifiedCount };
}
