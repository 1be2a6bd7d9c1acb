// Shared helpers of the fleet tests: process liveness (a zombie counts as dead), waits, and a
// small frame artifact as the trainer's data shard, and the fixture command trainer's workflow.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { encodeFrame } from '../../../lib/ml/dataset';
import { MEDIA, putArtifact, type ArtifactRef } from '../../../lib/store/artifacts';
import type { Store } from '../../../lib/store/db';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { CommandTrainInput } from '../../../activities/command-trainer';
import type { Config } from '../../../lib/config';
import type { CommandTrainingInput } from '../../../workflows/command-training';

export const FIXTURE_TRAINER = path.resolve(__dirname, '../../fixtures/command-trainer/train.js');

/** Whether `pid` is a live process (not gone, not a zombie waiting to be reaped). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A 20-row, two-feature classification frame stored as an artifact. */
export async function tinyShard(store: Store): Promise<ArtifactRef> {
  const n = 20;
  const frame = {
    length: n,
    columns: {
      x1: Float64Array.from({ length: n }, (_, i) => i / n),
      x2: Float64Array.from({ length: n }, (_, i) => (i % 3) - 1),
      label: Array.from({ length: n }, (_, i) => (i < n / 2 ? 'a' : 'b')) as (string | null)[],
    },
  };
  return putArtifact(store, encodeFrame(frame), MEDIA.frame, { kind: 'test' });
}

/**
 * Starts the `commandTraining` workflow running the fixture trainer with `params`. With a
 * `store`, it trains on a tiny two-feature classification shard; without, on no data.
 */
export async function startFixtureTraining(
  client: Client,
  cfg: Config,
  opts: { runId: string; params: Record<string, unknown>; store?: Store; timeout?: number }
): Promise<WorkflowHandle> {
  const train: CommandTrainInput = {
    runId: opts.runId,
    trainer: { command: [process.execPath, FIXTURE_TRAINER], params: opts.params, timeout: opts.timeout ?? 120_000 },
    ...(opts.store
      ? {
          task: 'classification' as const,
          target: 'label',
          features: [
            { name: 'x1', type: 'numeric' as const },
            { name: 'x2', type: 'numeric' as const },
          ],
          shards: [await tinyShard(opts.store)],
        }
      : { shards: [] }),
  };
  const input: CommandTrainingInput = {
    train,
    queues: { gpu: cfg.queues.gpu },
    options: { retryInitialInterval: '100 milliseconds', heartbeatTimeout: '10 seconds' },
  };
  return client.workflow.start('commandTraining', {
    taskQueue: cfg.queues.control,
    workflowId: opts.runId,
    args: [input],
  });
}
