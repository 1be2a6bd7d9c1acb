// What a checkpoint belongs to: the same spec and data shape give the same fingerprint, so a
// retry resumes only its own run's state. Epochs, the memory limit, threads and the execution
// provider may change between attempts (a retry on another worker, a longer run) without
// invalidating it.
import { hash32 } from '../../workflow-safe/rng';
import type { TrainSpec } from '../types';

export function trainingFingerprint(
  spec: TrainSpec,
  rows: number,
  parameters: number,
  extra: Record<string, unknown> = {}
): string {
  const { epochs: _e, memoryLimitMb: _m, threads: _t, executionProvider: _p, ...rest } = spec;
  return (hash32(JSON.stringify({ ...rest, ...extra })) >>> 0).toString(16) + `:${rows}:${parameters}`;
}
