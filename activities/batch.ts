// Batch inference (workflows/batch-inference.ts). Control queue: pin the model version, record
// the job's document, write the output manifests. CPU queue: split the input into chunk
// artifacts (after checking its columns against the model, so a missing column fails before any
// chunk exists), and score one chunk. A chunk heartbeats its record offset together with the
// outputs it has saved so far; a retried attempt (another worker, after a SIGKILL) starts from
// that offset and reuses them, so every row is scored once and appears once, in order.
import { Context } from '@temporalio/activity';
import { realpath } from 'node:fs/promises';
import { ERRORS_MEDIA, OUTPUT_MEDIA, putManifest } from '../lib/batch/manifest';
import {
  checkColumns,
  errorLine,
  modelSchema,
  outputHeader,
  parseChunk,
  scoreRows,
  type ModelSchema,
  type OutputFormat,
} from '../lib/batch/score';
import { splitCsvFile } from '../lib/batch/split';
import { resolveUnderRoot } from '../lib/ml/dataset';
import { checkWorkerMayRead } from '../lib/spec/residency';
import { putArtifact, readArtifact, type ArtifactRef } from '../lib/store/artifacts';
import { ensureBatchIndexes, updateBatch, type BatchPatch } from '../lib/store/batch-predictions';
import { loadServedModel, type ModelRef } from '../lib/store/served-model';
import { cancellationSignal, classify, currentAttempt, heartbeat, type ActivityDeps } from './common';

export interface BatchPinInput {
  batchId: string;
  model: string;
  ref: ModelRef;
}
export interface BatchPinned {
  version: number;
  serving: ArtifactRef;
}

export interface BatchSplitInput {
  batchId: string;
  model: string;
  version: number;
  /** Relative to MLOPS_DATASETS_DIR. */
  path: string;
  format: OutputFormat;
  idColumn?: string;
  chunkRows: number;
  chunkBytes: number;
}
export interface BatchChunk {
  index: number;
  firstRow: number;
  firstLine: number;
  rows: number;
  ref: ArtifactRef;
}
export interface BatchSplitResult {
  header: string[];
  /** The output's first line (empty for JSONL). */
  outputHeader: string;
  rows: number;
  bytes: number;
  sha256: string;
  chunks: BatchChunk[];
}

export interface BatchChunkInput {
  batchId: string;
  model: string;
  version: number;
  header: string[];
  chunk: BatchChunk;
  format: OutputFormat;
  idColumn?: string;
  /** Rows predicted per session.run and per heartbeat (default 4096). */
  sliceRows?: number;
  /** Save the outputs so far at most this often, so a retry resumes (default 2000 ms; 0 = every slice). */
  checkpointMs?: number;
}
export interface BatchChunkResult {
  index: number;
  output: ArtifactRef | null;
  errors: ArtifactRef | null;
  rows: number;
  bad: number;
  attempt: number;
  /** Record offset this attempt started from (0 unless it resumed a failed attempt's work). */
  resumedFrom: number;
}

export interface BatchFinishInput {
  batchId: string;
  format: OutputFormat;
  outputHeader: string;
  results: Pick<BatchChunkResult, 'output' | 'errors'>[];
  rows: number;
  bad: number;
}

export type BatchRecordPatch = Omit<BatchPatch, 'startedAt' | 'endedAt'> & { startedAt?: number; endedAt?: number };

/** What a chunk attempt heartbeats: records done, and the saved outputs covering them. */
interface ChunkCheckpoint {
  offset: number;
  parts: ArtifactRef[];
}

const PART_MEDIA = 'application/x-mlops-batch-part+json';

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classify(err);
  }
}

/** Small per-process cache of verified models, keyed by name and version (one session each). */
class ModelCache {
  private map = new Map<string, Promise<{ onnx: Buffer; schema: ModelSchema }>>();
  constructor(private readonly deps: ActivityDeps) {}
  get(name: string, version: number) {
    const key = `${name}:${version}`;
    let p = this.map.get(key);
    if (!p) {
      p = loadServedModel(this.deps.store, name, { version }).then((m) => ({
        onnx: m.onnx,
        schema: modelSchema(m.onnx),
      }));
      p.catch(() => this.map.delete(key));
      this.map.set(key, p);
      while (this.map.size > 4) this.map.delete(this.map.keys().next().value as string);
    }
    return p;
  }
}

export function createBatchControlActivities(deps: ActivityDeps) {
  const errorsManifest = (batchId: string, results: Pick<BatchChunkResult, 'errors'>[]) =>
    putManifest(
      deps.store,
      ERRORS_MEDIA,
      results.flatMap((r) => (r.errors ? [r.errors] : [])),
      { kind: 'batch-errors', batchId }
    );
  return {
    /** Resolves the alias once, at the start: the whole job runs this one version. */
    async batchPin(input: BatchPinInput): Promise<BatchPinned> {
      return guarded(async () => {
        const m = await loadServedModel(deps.store, input.model, input.ref);
        return { version: m.version.version, serving: m.artifact };
      });
    },

    /** Times travel as epoch milliseconds (a Date would arrive as a string through the payload codec). */
    async batchRecord(input: { batchId: string; patch: BatchRecordPatch }): Promise<void> {
      const { startedAt, endedAt, ...rest } = input.patch;
      await ensureBatchIndexes(deps.store.db);
      await updateBatch(deps.store, input.batchId, {
        ...rest,
        ...(startedAt !== undefined ? { startedAt: new Date(startedAt) } : {}),
        ...(endedAt !== undefined ? { endedAt: new Date(endedAt) } : {}),
      });
    },

    /** The errors of a job that failed on its error rate, so they can still be downloaded. */
    async batchRecordErrors(input: { batchId: string; results: Pick<BatchChunkResult, 'errors'>[] }): Promise<void> {
      await updateBatch(deps.store, input.batchId, { errors: await errorsManifest(input.batchId, input.results) });
    },

    /** The ordered output and the errors as manifests of their parts, then the job's outcome. */
    async batchFinish(input: BatchFinishInput): Promise<{ output: ArtifactRef; errors: ArtifactRef }> {
      const labels = { kind: 'batch-output', batchId: input.batchId };
      const header = input.outputHeader
        ? [await putArtifact(deps.store, Buffer.from(input.outputHeader), OUTPUT_MEDIA[input.format], labels)]
        : [];
      const outputs = input.results.flatMap((r) => (r.output ? [r.output] : []));
      const output = await putManifest(deps.store, OUTPUT_MEDIA[input.format], [...header, ...outputs], labels);
      const errorsRef = await errorsManifest(input.batchId, input.results);
      await updateBatch(deps.store, input.batchId, {
        status: 'succeeded',
        output,
        errors: errorsRef,
        rowsDone: input.rows,
        rowsFailed: input.bad,
        endedAt: new Date(),
      });
      return { output, errors: errorsRef };
    },
  };
}

export function createBatchCpuActivities(deps: ActivityDeps) {
  const hooks = deps.hooks ?? {};
  const modelCache = new ModelCache(deps);

  return {
    /** Checks the header against the model, then writes the input as chunk artifacts. */
    async batchSplit(input: BatchSplitInput): Promise<BatchSplitResult> {
      return guarded(async () => {
        const file = await resolveUnderRoot(deps.cfg.datasetsDir, input.path);
        checkWorkerMayRead(deps.cfg, input.path);
        checkWorkerMayRead({ ...deps.cfg, datasetsDir: await realpath(deps.cfg.datasetsDir) }, file);
        const { schema } = await modelCache.get(input.model, input.version);
        const chunks: BatchChunk[] = [];
        const labels = { kind: 'batch-input', batchId: input.batchId };
        const r = await splitCsvFile(
          file,
          { maxRows: input.chunkRows, maxBytes: input.chunkBytes },
          {
            onHeader: (header) =>
              checkColumns(header, schema, input.idColumn, `model '${input.model}' v${input.version}`),
            onChunk: async (c) => {
              const ref = await putArtifact(deps.store, c.bytes, 'text/csv', labels);
              chunks.push({ index: c.index, firstRow: c.firstRow, firstLine: c.firstLine, rows: c.rows, ref });
              heartbeat({ chunks: chunks.length });
            },
            onProgress: (bytes) => heartbeat({ bytes }),
            signal: cancellationSignal(),
          }
        );
        return {
          header: r.header,
          outputHeader: outputHeader(input.format, schema, input.idColumn),
          rows: r.rows,
          bytes: r.bytes,
          sha256: r.sha256,
          chunks,
        };
      });
    },

    async batchScoreChunk(input: BatchChunkInput): Promise<BatchChunkResult> {
      let details: ChunkCheckpoint = { offset: 0, parts: [] };
      try {
        const previous = Context.current().info.heartbeatDetails as ChunkCheckpoint | undefined;
        if (previous && Number.isInteger(previous.offset) && Array.isArray(previous.parts)) details = previous;
      } catch {
        /* outside an activity (unit tests) */
      }
      const resumedFrom = details.offset;
      heartbeat(details);
      // Liveness while the store is slow; each slice heartbeats its progress on top of this.
      const timer = setInterval(() => heartbeat(details), 1_000);
      try {
        return await guarded(async () => {
          const { chunk } = input;
          const [{ onnx, schema }, bytes] = await Promise.all([
            modelCache.get(input.model, input.version),
            readArtifact(deps.store, chunk.ref),
          ]);
          const parsed = parseChunk(bytes.toString('utf8'), input.header, schema, chunk, {
            idColumn: input.idColumn,
            skip: details.offset,
          });
          const sliceRows = input.sliceRows ?? 4096;
          const checkpointMs = input.checkpointMs ?? 2_000;
          const lastRow = chunk.firstRow + chunk.rows - 1;
          let out: string[] = [];
          let errs: string[] = [];
          let bad = 0;
          let lastSave = Date.now();
          const takeBad = (upToRow: number) => {
            while (bad < parsed.bad.length && parsed.bad[bad].row <= upToRow) errs.push(errorLine(parsed.bad[bad++]));
          };
          const labels = { kind: 'batch-part', batchId: input.batchId };
          for (let s = 0; s < parsed.frame.length;) {
            await hooks.beforeBatchRows?.(chunk.index, details.offset);
            const signal = cancellationSignal();
            if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
            const e = Math.min(s + sliceRows, parsed.frame.length);
            const upTo = e < parsed.frame.length ? parsed.rowNumbers[e - 1] : lastRow;
            out.push(await scoreRows(onnx, parsed, s, e, input.format));
            takeBad(upTo);
            s = e;
            let parts = details.parts;
            if (s < parsed.frame.length && Date.now() - lastSave >= checkpointMs) {
              const part = { output: out.join(''), errors: errs.join('') };
              parts = [...parts, await putArtifact(deps.store, Buffer.from(JSON.stringify(part)), PART_MEDIA, labels)];
              out = [];
              errs = [];
              lastSave = Date.now();
            }
            details = { offset: upTo - chunk.firstRow + 1, parts };
            heartbeat(details);
          }
          takeBad(lastRow);
          // This attempt's text, after whatever earlier attempts saved.
          const saved = await Promise.all(
            details.parts.map(
              async (p) =>
                JSON.parse((await readArtifact(deps.store, p)).toString('utf8')) as { output: string; errors: string }
            )
          );
          const outputText = saved.map((p) => p.output).join('') + out.join('');
          const errorsText = saved.map((p) => p.errors).join('') + errs.join('');
          const chunkLabels = { kind: 'batch-chunk', batchId: input.batchId, chunk: String(chunk.index) };
          const output = outputText
            ? await putArtifact(deps.store, Buffer.from(outputText), OUTPUT_MEDIA[input.format], chunkLabels)
            : null;
          const errors = errorsText
            ? await putArtifact(deps.store, Buffer.from(errorsText), ERRORS_MEDIA, chunkLabels)
            : null;
          const badTotal = errorsText ? countLines(errorsText) : 0;
          return {
            index: chunk.index,
            output,
            errors,
            rows: chunk.rows,
            bad: badTotal,
            attempt: currentAttempt(),
            resumedFrom,
          };
        });
      } finally {
        clearInterval(timer);
      }
    },
  };
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
