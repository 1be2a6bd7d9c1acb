import type { Frame } from './types';
export interface ModelComparison {
  reference: { bytes: number; latencyMsBatch1: number; latencyMsBatch256: number; metric: number };
  candidate: { bytes: number; latencyMsBatch1: number; latencyMsBatch256: number; metric: number };
  metricName: string;
  /** candidate metric minus reference metric (accuracy for classification, r2 for regression). */
  metricDelta: number;
  /** Fraction of rows where the candidate's label equals the reference's (classification). */
  agreement?: number;
}
export async function compareModels(
  _reference: Uint8Array,
  _candidate: Uint8Array,
  _frame: Frame,
  _target: string
): Promise<ModelComparison> {
  throw new Error('not implemented yet');
}
