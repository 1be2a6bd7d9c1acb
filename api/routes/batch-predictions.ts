// Batch predictions: start a `batchInference` job over a CSV under the datasets root (with
// Idempotency-Key; api/commands/start-batch.ts), show it (stored document merged with the
// workflow's live progress query), stream its ordered output and its errors file, cancel it
// (its starter or an admin: lib/auth/policies.ts).
import type { Response } from 'express';
import { z } from 'zod';
import { readManifest, streamParts } from '../../lib/batch/manifest';
import { OUTPUT_FORMATS } from '../../lib/batch/score';
import { csvDatasetPath } from '../../lib/spec/dataset-path';
import { ArtifactIntegrityError } from '../../lib/store/artifacts';
import { BATCH_STATUSES, BATCH_TERMINAL, type BatchDoc } from '../../lib/store/batch-predictions';
import type { BatchProgress } from '../../workflows/batch-messages';
import { batchProgress } from '../batch';
import { cancelBatch, mustGetBatch } from '../commands/cancel-batch';
import { callerOf } from '../commands/caller';
import { startBatch } from '../commands/start-batch';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { acceptedStart, idempotencyHeader, idempotencyOf } from '../idempotency';
import { defineRoute, type RouteDef } from '../route';
import { documented } from '../zod-json-schema';
import { ALIAS_RE, ID_RE, MODEL_NAME_RE, param } from '../validation';
import { dateTime, passThrough, problemResponses } from './schemas';

export const batchBody = documented(
  z
    .object({
      model: z.string().regex(MODEL_NAME_RE, 'a model name'),
      version: z.number().int().min(1).max(1_000_000_000).optional(),
      alias: z.string().regex(ALIAS_RE, 'an alias such as production').optional(),
      input: csvDatasetPath(1024, 'the input must be a .csv file').describe(
        'CSV file with a header, relative to MLOPS_DATASETS_DIR'
      ),
      format: z.enum(OUTPUT_FORMATS).default('csv'),
      idColumn: z.string().min(1).max(200).optional().describe('Input column copied to every output row'),
      maxErrorRate: z.number().min(0).max(1).default(0.01).describe('Fraction of bad rows tolerated'),
      chunkRows: z.number().int().min(100).max(1_000_000).optional().describe('Records per chunk (default 50000)'),
      parallelism: z.number().int().min(1).max(64).optional().describe('Chunks scored at once (default 4)'),
    })
    .strict()
    .refine((b) => b.version === undefined || b.alias === undefined, {
      message: 'give version or alias, not both',
      path: ['alias'],
    }),
  (js) => ({ ...js, not: { required: ['version', 'alias'] } })
);

/** A batch request as the command gets it (defaults filled in): z.output of the body schema. */
export type BatchRequest = z.output<typeof batchBody>;

const batchParams = z.object({ id: param.id(ID_RE, 'Batch id (= workflow id)') });
const batchLink = (id: string) => ({
  getBatchPrediction: { operationId: 'getBatchPrediction', parameters: { id } },
});

const progressSchema = z.object({
  rowsDone: z.number().int(),
  rowsTotal: z.number().int().nullable(),
  rowsFailed: z.number().int(),
  fraction: z.number(),
  rowsPerSec: z.number().nullable(),
  chunksDone: z.number().int().nullable(),
  chunksTotal: z.number().int().nullable(),
});

const batchSchema = z.object({
  batchId: z.string(),
  model: z.string(),
  requested: z.object({ alias: z.string().optional(), version: z.number().int().optional() }),
  version: z.number().int().nullable().describe('The version pinned at the start'),
  status: z.enum(BATCH_STATUSES),
  stage: z.string(),
  input: z.object({ path: z.string() }).passthrough(),
  format: z.enum(OUTPUT_FORMATS),
  idColumn: z.string().optional(),
  maxErrorRate: z.number(),
  progress: progressSchema,
  output: passThrough('Manifest of the ordered output (sha256 names it)').nullable(),
  errors: passThrough('Manifest of the errors file').nullable(),
  error: passThrough('Why the batch failed').nullable(),
  createdBy: z.string(),
  createdAt: dateTime,
  startedAt: dateTime.optional(),
  endedAt: dateTime.optional(),
});
export type BatchJson = z.infer<typeof batchSchema>;
const startedBatchSchema = z.object({ batchId: z.string(), status: z.literal('queued'), location: z.string() });
export type StartedBatchJson = z.infer<typeof startedBatchSchema>;

function view(doc: BatchDoc, live: BatchProgress | null) {
  const rowsTotal = live?.rowsTotal ?? doc.rowsTotal ?? null;
  const rowsDone = Math.max(live?.rowsDone ?? 0, doc.rowsDone ?? 0);
  const seconds = doc.startedAt && doc.endedAt ? (doc.endedAt.getTime() - doc.startedAt.getTime()) / 1000 : 0;
  const status = doc.status === 'queued' && live ? 'running' : doc.status;
  return {
    batchId: doc.batchId,
    model: doc.model,
    requested: doc.requested,
    version: doc.version ?? live?.version ?? null,
    status,
    stage: live?.stage ?? (BATCH_TERMINAL.includes(doc.status) ? 'done' : 'queued'),
    input: doc.input,
    format: doc.format,
    ...(doc.idColumn !== undefined ? { idColumn: doc.idColumn } : {}),
    maxErrorRate: doc.maxErrorRate,
    progress: {
      rowsDone,
      rowsTotal,
      rowsFailed: Math.max(live?.rowsFailed ?? 0, doc.rowsFailed ?? 0),
      fraction: rowsTotal ? Math.min(1, rowsDone / rowsTotal) : status === 'succeeded' ? 1 : 0,
      rowsPerSec:
        live?.rowsPerSec ?? (seconds > 0 && doc.status === 'succeeded' ? Math.round(rowsDone / seconds) : null),
      chunksDone: live?.chunksDone ?? null,
      chunksTotal: live?.chunksTotal ?? doc.chunks ?? null,
    },
    output: doc.output ?? null,
    errors: doc.errors ?? null,
    error: doc.error ?? null,
    createdBy: doc.createdBy,
    createdAt: doc.createdAt,
    startedAt: doc.startedAt,
    endedAt: doc.endedAt,
  };
}

export function batchRoutes(ctx: ApiContext): RouteDef[] {
  /** Streams a manifest's parts in order; an integrity failure before the first byte is a 500 problem. */
  const download = async (id: string, res: Response, which: 'output' | 'errors') => {
    const doc = await mustGetBatch(ctx, id);
    const ref = doc[which];
    if (!ref) {
      throw problems.conflict(
        doc.status === 'succeeded' || which === 'output'
          ? `Batch ${doc.batchId} is ${doc.status}; its ${which} exists once it has succeeded${which === 'errors' ? ' or failed on its error rate' : ''}.`
          : `Batch ${doc.batchId} is ${doc.status} and has no errors file.`,
        { extra: { batchStatus: doc.status } }
      );
    }
    const manifest = await readManifest(ctx.store, ref);
    const ext = which === 'errors' || doc.format === 'jsonl' ? 'jsonl' : 'csv';
    res.status(200);
    res.setHeader('Content-Type', manifest.mediaType);
    res.setHeader('Content-Length', String(manifest.bytes));
    res.setHeader('Content-Disposition', `attachment; filename="${doc.batchId}-${which}.${ext}"`);
    res.setHeader('ETag', `"${ref.sha256}"`);
    try {
      await streamParts(ctx.store, manifest, (bytes) =>
        res.write(bytes) ? Promise.resolve() : new Promise((r) => res.once('drain', () => r()))
      );
      res.end();
    } catch (err) {
      if (err instanceof ArtifactIntegrityError)
        ctx.log.error('batch output failed its integrity check', { uri: err.uri });
      res.destroy(err as Error); // headers are out: cut the body short rather than send a wrong file
    }
  };

  const downloadRoute = (
    which: 'output' | 'errors',
    operationId: string,
    what: string,
    contentType: string
  ): RouteDef =>
    defineRoute({
      method: 'get',
      path: `/v1/batch-predictions/:id/${which}`,
      operationId,
      summary: `Download ${what}`,
      tag: 'batch',
      permission: 'read',
      params: batchParams,
      responses: {
        200: { description: `The ${which} file`, contentType, schema: z.string() },
        ...problemResponses(404, 409, 500),
      },
      handler: ({ params }, _req, res) => download(params.id, res, which),
    });

  return [
    defineRoute({
      method: 'post',
      path: '/v1/batch-predictions',
      operationId: 'startBatchPrediction',
      summary: 'Score a CSV file with a model on the CPU fleet',
      description:
        'Pins the model version at the start (`alias` default production, or `version`), checks the input columns against the model, then scores it in chunks. With an Idempotency-Key, repeating the request returns the same batch (header Idempotent-Replayed: true). See docs/batch-inference.md.',
      tag: 'batch',
      permission: 'runs:start',
      body: batchBody,
      headers: [idempotencyHeader('batch')],
      responses: {
        202: {
          description: 'Accepted: the batch is starting',
          schema: startedBatchSchema,
          headers: { Location: '/v1/batch-predictions/{batchId}', 'Idempotent-Replayed': 'true on a replay' },
          links: batchLink('$response.body#/batchId'),
        },
        ...problemResponses(422, 503),
      },
      async handler({ body }, req, res) {
        const { batchId, replayed } = await startBatch(ctx, callerOf(ctx, req, res), {
          batch: body,
          idempotency: idempotencyOf(req),
        });
        acceptedStart(res, `/v1/batch-predictions/${batchId}`, replayed, { batchId, status: 'queued' });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/batch-predictions/:id',
      operationId: 'getBatchPrediction',
      summary: 'Show a batch prediction with its progress (rows done and total, rows/s)',
      tag: 'batch',
      permission: 'read',
      params: batchParams,
      responses: { 200: { description: 'The batch', schema: batchSchema }, ...problemResponses(404) },
      async handler({ params }, _req, res) {
        const doc = await mustGetBatch(ctx, params.id);
        let live: BatchProgress | null = null;
        if (!BATCH_TERMINAL.includes(doc.status)) {
          live = await ctx.temporal
            .client()
            .then((c) => batchProgress(c, doc.batchId))
            .catch(() => null); // Temporal down: answer from MongoDB
        }
        res.json(view(doc, live));
      },
    }),
    downloadRoute(
      'output',
      'downloadBatchOutput',
      'the ordered output (CSV or JSONL): row number, id, prediction, probabilities',
      'text/csv'
    ),
    downloadRoute(
      'errors',
      'downloadBatchErrors',
      'the rows that could not be scored (JSONL: row, line, reason)',
      'application/x-ndjson'
    ),
    defineRoute({
      method: 'post',
      path: '/v1/batch-predictions/:id/cancel',
      operationId: 'cancelBatchPrediction',
      summary: 'Cancel a batch prediction',
      description: 'Scientists may cancel batches they started; admins any.',
      tag: 'batch',
      permission: 'runs:cancel',
      params: batchParams,
      responses: {
        202: {
          description: 'Cancellation requested',
          schema: z.object({ batchId: z.string() }),
          links: batchLink('$response.body#/batchId'),
        },
        ...problemResponses(404, 409, 503),
      },
      async handler({ params }, req, res) {
        await cancelBatch(ctx, callerOf(ctx, req, res), params.id);
        res.status(202).json({ batchId: params.id });
      },
    }),
  ];
}
