// Labels that arrive after the predictions (POST /v1/models/{name}/feedback), in one of two forms:
// - by request id: one document per (model, request id), holding one label per row of the logged
//   request, in order;
// - by row id (`rows`): one document per (model, row id), for models whose policy names an id
//   column (monitor.idColumn): the inference server logged each row's id with its prediction.
// A label sent again for the same request or row replaces the earlier one, so a client may retry
// freely. The two forms cannot collide: model names hold neither ':' nor '#', so `model:requestId`
// and `model#rowId` never meet. Monitoring windows join them with the prediction log
// (activities/monitoring.ts windowQuality).
import { z } from 'zod';
import type { Store } from '../store/db';
import { feedback, type FeedbackDoc } from '../store/monitoring';

/**
 * Requests per call, rows per request, characters per label, labelled row ids per call,
 * characters per row id: the edge's limits. The row id limit is the inference server's too.
 */
export const FEEDBACK_LIMITS = { items: 1000, labels: 10_000, labelChars: 256, rows: 1000, rowIdChars: 128 };

const label = z.union([z.string().max(FEEDBACK_LIMITS.labelChars), z.number().finite()]);

/** A row id as the inference server logs it: an integer id is its decimal text. */
const rowId = z.union([z.string().min(1).max(FEEDBACK_LIMITS.rowIdChars), z.number().int().safe().transform(String)]);

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
      .max(FEEDBACK_LIMITS.items)
      .optional(),
    rows: z
      .array(
        z
          .object({
            /** The row's value in the model's id column (monitor.idColumn) when it was predicted. */
            id: rowId,
            label,
          })
          .strict()
      )
      .min(1)
      .max(FEEDBACK_LIMITS.rows)
      .optional(),
  })
  .strict()
  .refine((b) => (b.items === undefined) !== (b.rows === undefined), {
    message:
      'give either `items` (labels by request id) or `rows` (labels by row id, for a model with monitor.idColumn)',
  });
export type FeedbackBody = z.output<typeof feedbackBodySchema>;

/** The feedback documents a body writes (pure: the API stores them, tests read them). */
export function feedbackDocs(model: string, body: FeedbackBody, by: string, at: Date): FeedbackDoc[] {
  if (body.rows) {
    // The last label of an id sent twice in one call wins, as a later call's would.
    const byId = new Map(body.rows.map((r) => [r.id, r.label]));
    return [...byId].map(([id, l]) => ({ _id: `${model}#${id}`, model, rowId: id, labels: [l], at, by }));
  }
  return body.items!.map((i) => ({
    _id: `${model}:${i.requestId}`,
    model,
    requestId: i.requestId,
    labels: i.labels ?? [i.label!],
    at,
    by,
  }));
}

export async function saveFeedback(store: Pick<Store, 'db'>, model: string, body: FeedbackBody, by: string) {
  const docs = feedbackDocs(model, body, by, new Date());
  const ops = docs.map(({ _id, ...replacement }) => ({ replaceOne: { filter: { _id }, replacement, upsert: true } }));
  const res = await feedback(store.db).bulkWrite(ops, { ordered: false });
  return { accepted: docs.length, created: res.upsertedCount, replaced: res.modifiedCount };
}
