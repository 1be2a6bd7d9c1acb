// Messages of the `batchInference` workflow, safe to import from anywhere (API, CLI, tests):
//   query  `batchProgress`  -> BatchProgress (rows done and total, rows/s, pinned version, stage)
//   signal `batchChunkDone` {index, rows, bad}: sent by its window child workflows per chunk
import { defineQuery, defineSignal } from '@temporalio/workflow';

export type BatchStage = 'pinning' | 'splitting' | 'scoring' | 'assembling' | 'done';

export interface BatchProgress {
  batchId: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  stage: BatchStage;
  /** The version pinned at the start (null until resolved). */
  version: number | null;
  rowsTotal: number | null;
  /** Input rows scored or rejected so far. */
  rowsDone: number;
  rowsFailed: number;
  chunksTotal: number | null;
  chunksDone: number;
  /** Rows per second since scoring began (null before the first chunk). */
  rowsPerSec: number | null;
  startedAt: string;
  error: string | null;
}

export interface ChunkDone {
  index: number;
  rows: number;
  bad: number;
}

export const batchProgressQuery = defineQuery<BatchProgress>('batchProgress');
export const batchChunkDoneSignal = defineSignal<[ChunkDone]>('batchChunkDone');
