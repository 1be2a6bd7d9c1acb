// Shared helpers of the fleet tests: process liveness (a zombie counts as dead), waits, and a
// small frame artifact as the trainer's data shard.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { encodeFrame } from '../../../lib/ml/dataset';
import { MEDIA, putArtifact, type ArtifactRef } from '../../../lib/store/artifacts';
import type { Store } from '../../../lib/store/db';

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
