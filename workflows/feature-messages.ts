// The feature materialization workflow's query and its answer, apart from the workflow so the
// API can import them without the workflow's activity proxies.
import { defineQuery } from '@temporalio/workflow';

export interface MaterializationProgress {
  partitionsDone: number;
  partitionsTotal: number;
  rows: number;
  /** Partitions found done by an earlier run of the same materialization. */
  skipped: number;
}

export const materializationProgressQuery = defineQuery<MaterializationProgress>('materializationProgress');
