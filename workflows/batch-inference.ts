// Batch inference as a durable fan-out. The parent pins the model version (an alias that moves
// mid-job cannot mix versions), splits the input into chunk artifacts on the CPU queue (its
// columns are checked against the model first: a missing one fails at once, before any chunk),
// then scores the chunks in windows: one child workflow per `windowChunks` chunks, each running
// one CPU activity per chunk with bounded parallelism. The parent's history therefore grows with
// the number of windows and chunk signals, never with a child's activity events, and stays
// bounded for a 10M-row input. Children report each chunk by signal, which feeds the progress
// query. Past `maxErrorRate` bad rows the job fails non-retryably; otherwise one ordered output
// (a manifest of content-addressed parts) is written. The job's document in `batch_predictions`
// is written by control activities at every change.
import {
  ApplicationFailure,
  CancellationScope,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { BatchChunk, BatchChunkResult } from '../activities/batch';
import type { ControlActivities, CpuActivities } from '../activities';
import type { OutputFormat } from '../lib/batch/score';
import type { ArtifactRef } from '../lib/store/artifacts';
import type { ModelRef } from '../lib/store/served-model';
import { FAILURE, retryPolicy } from '../lib/workflow-safe/failures';
import { batchChunkDoneSignal, batchProgressQuery, type BatchProgress, type ChunkDone } from './batch-messages';

export interface BatchLimits {
  /** Records per chunk (default 50 000). */
  chunkRows?: number;
  /** Input bytes per chunk, about (default 8 MiB). */
  chunkBytes?: number;
  /** Chunks scored at once (default 4). */
  parallelism?: number;
  /** Chunks per child workflow (default 100). */
  windowChunks?: number;
  /** Rows per session.run and heartbeat inside a chunk (default 4096). */
  sliceRows?: number;
  /** A chunk saves its outputs for a retry at most this often (default 2000 ms). */
  checkpointMs?: number;
}

export interface BatchInferenceInput {
  /** The batch id; also the workflow id. */
  batchId: string;
  model: string;
  ref: ModelRef;
  /** Input CSV, relative to MLOPS_DATASETS_DIR. */
  input: { path: string };
  format: OutputFormat;
  idColumn?: string;
  /** Fraction of bad rows tolerated (0..1). */
  maxErrorRate: number;
  queues: { control: string; cpu: string };
  limits?: BatchLimits;
  options?: { heartbeatTimeout?: Duration; retryInitialInterval?: Duration };
}

export interface BatchResult {
  batchId: string;
  version: number;
  rows: number;
  bad: number;
  chunks: number;
  windows: number;
  output: ArtifactRef;
  errors: ArtifactRef;
  /** Chunk attempts that resumed a failed attempt's saved work. */
  resumedChunks: number;
}

export interface BatchWindowInput {
  parentId: string;
  batchId: string;
  model: string;
  version: number;
  header: string[];
  chunks: BatchChunk[];
  format: OutputFormat;
  idColumn?: string;
  parallelism: number;
  sliceRows?: number;
  checkpointMs?: number;
  queues: { cpu: string };
  options?: BatchInferenceInput['options'];
}

function retry(first: Duration | undefined, maximumAttempts: number): RetryPolicy {
  return retryPolicy(first ?? '1 second', maximumAttempts, '30 seconds');
}

function rootMessage(err: unknown): { message: string; type?: string } {
  let e = err as { message?: string; cause?: unknown; type?: string } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return { message: e?.message ?? String(err), type: e?.type };
}

/** One window of chunks: at most `parallelism` chunk activities at once, results in chunk order. */
export async function batchInferenceWindow(input: BatchWindowInput): Promise<BatchChunkResult[]> {
  const score: ActivityOptions = {
    taskQueue: input.queues.cpu,
    scheduleToStartTimeout: '1 day',
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: input.options?.heartbeatTimeout ?? '30 seconds',
    retry: retry(input.options?.retryInitialInterval, 10),
  };
  const cpu = proxyActivities<CpuActivities>(score);
  const parent = getExternalWorkflowHandle(input.parentId);
  const results: BatchChunkResult[] = new Array(input.chunks.length);
  let next = 0;
  const lane = async () => {
    while (next < input.chunks.length) {
      const i = next++;
      const chunk = input.chunks[i];
      results[i] = await cpu.batchScoreChunk({
        batchId: input.batchId,
        model: input.model,
        version: input.version,
        header: input.header,
        chunk,
        format: input.format,
        idColumn: input.idColumn,
        sliceRows: input.sliceRows,
        checkpointMs: input.checkpointMs,
      });
      const done: ChunkDone = { index: chunk.index, rows: chunk.rows, bad: results[i].bad };
      await parent.signal(batchChunkDoneSignal, done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.parallelism, input.chunks.length) }, lane));
  return results;
}

export async function batchInference(input: BatchInferenceInput): Promise<BatchResult> {
  const o = input.options ?? {};
  const l = input.limits ?? {};
  const controlOpts: ActivityOptions = {
    taskQueue: input.queues.control,
    scheduleToStartTimeout: '1 hour',
    startToCloseTimeout: '1 minute',
    retry: retry(o.retryInitialInterval, 10),
  };
  const control = proxyActivities<ControlActivities>(controlOpts);
  const split = proxyActivities<CpuActivities>({
    taskQueue: input.queues.cpu,
    scheduleToStartTimeout: '1 day',
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '2 minutes',
    retry: retry(o.retryInitialInterval, 5),
  });
  const startedAt = Date.now();
  const state: BatchProgress = {
    batchId: input.batchId,
    status: 'running',
    stage: 'pinning',
    version: null,
    rowsTotal: null,
    rowsDone: 0,
    rowsFailed: 0,
    chunksTotal: null,
    chunksDone: 0,
    rowsPerSec: null,
    startedAt: new Date(startedAt).toISOString(),
    error: null,
  };
  let scoringStarted = 0;
  const seen = new Set<number>();
  setHandler(batchProgressQuery, () => state);
  setHandler(batchChunkDoneSignal, (c: ChunkDone) => {
    if (seen.has(c.index)) return; // a retried child may report a chunk twice
    seen.add(c.index);
    state.chunksDone++;
    state.rowsDone += c.rows;
    state.rowsFailed += c.bad;
    const seconds = (Date.now() - scoringStarted) / 1000;
    state.rowsPerSec = seconds > 0 ? Math.round(state.rowsDone / seconds) : null;
  });
  const record = (patch: Parameters<ControlActivities['batchRecord']>[0]['patch']) =>
    control.batchRecord({ batchId: input.batchId, patch });

  try {
    await record({ status: 'running', startedAt });
    const pinned = await control.batchPin({ batchId: input.batchId, model: input.model, ref: input.ref });
    state.version = pinned.version;
    await record({ version: pinned.version });

    state.stage = 'splitting';
    const s = await split.batchSplit({
      batchId: input.batchId,
      model: input.model,
      version: pinned.version,
      path: input.input.path,
      format: input.format,
      idColumn: input.idColumn,
      chunkRows: l.chunkRows ?? 50_000,
      chunkBytes: l.chunkBytes ?? 8 * 1024 * 1024,
    });
    state.rowsTotal = s.rows;
    state.chunksTotal = s.chunks.length;
    await record({
      input: { path: input.input.path, rows: s.rows, bytes: s.bytes, sha256: s.sha256 },
      rowsTotal: s.rows,
      chunks: s.chunks.length,
    });
    const allowed = Math.floor(input.maxErrorRate * s.rows);
    const tooMany = (bad: number) =>
      ApplicationFailure.create({
        message:
          `${bad} of ${s.rows} rows could not be scored, more than maxErrorRate ${input.maxErrorRate} allows ` +
          `(${allowed}); see GET /v1/batch-predictions/${input.batchId}/errors, fix the rows, or raise maxErrorRate`,
        type: FAILURE.BatchErrorRateExceeded,
        nonRetryable: true,
      });

    state.stage = 'scoring';
    scoringStarted = Date.now();
    const windowChunks = l.windowChunks ?? 100;
    const results: BatchChunkResult[] = [];
    let windows = 0;
    for (let first = 0; first < s.chunks.length; first += windowChunks) {
      const part = await executeChild(batchInferenceWindow, {
        workflowId: `${input.batchId}-w${windows++}`,
        args: [
          {
            parentId: input.batchId,
            batchId: input.batchId,
            model: input.model,
            version: pinned.version,
            header: s.header,
            chunks: s.chunks.slice(first, first + windowChunks),
            format: input.format,
            idColumn: input.idColumn,
            parallelism: l.parallelism ?? 4,
            sliceRows: l.sliceRows,
            checkpointMs: l.checkpointMs,
            queues: { cpu: input.queues.cpu },
            options: o,
          },
        ],
      });
      results.push(...part);
      const bad = results.reduce((n, r) => n + r.bad, 0);
      const done = results.reduce((n, r) => n + r.rows, 0);
      await record({ rowsDone: done, rowsFailed: bad });
      if (bad > allowed) {
        await control.batchRecordErrors({
          batchId: input.batchId,
          results: results.map((r) => ({ errors: r.errors })),
        });
        throw tooMany(bad);
      }
    }
    const bad = results.reduce((n, r) => n + r.bad, 0);

    state.stage = 'assembling';
    const finished = await control.batchFinish({
      batchId: input.batchId,
      format: input.format,
      outputHeader: s.outputHeader,
      results: results.map((r) => ({ output: r.output, errors: r.errors })),
      rows: s.rows,
      bad,
    });
    state.stage = 'done';
    state.status = 'succeeded';
    state.rowsDone = s.rows;
    state.rowsFailed = bad;
    return {
      batchId: input.batchId,
      version: pinned.version,
      rows: s.rows,
      bad,
      chunks: s.chunks.length,
      windows,
      output: finished.output,
      errors: finished.errors,
      resumedChunks: results.filter((r) => r.resumedFrom > 0).length,
    };
  } catch (err) {
    const cancelled = isCancellation(err);
    const root = cancelled ? { message: 'the batch was cancelled' } : rootMessage(err);
    state.status = cancelled ? 'cancelled' : 'failed';
    state.stage = 'done';
    state.error = root.message;
    await CancellationScope.nonCancellable(() =>
      record({ status: state.status, error: root, endedAt: Date.now(), rowsFailed: state.rowsFailed })
    );
    if (cancelled) throw err;
    throw ApplicationFailure.create({
      message: `batch ${input.batchId} failed: ${root.message}`,
      type: root.type ?? FAILURE.BatchFailed,
      nonRetryable: true,
      cause: err as Error,
    });
  }
}
