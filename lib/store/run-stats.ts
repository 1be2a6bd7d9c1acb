// Run and stage totals for /metrics, read from MongoDB: runs per status, and per stage the
// completed step events with their summed duration.
import type { Db } from 'mongodb';
import { runEvents } from './events';
import { RUN_STATUSES, runs } from './runs';

export interface RunStats {
  runsByStatus: Record<string, number>;
  stages: Record<string, { count: number; seconds: number }>;
}

export async function readRunStats(db: Db): Promise<RunStats> {
  // Two pipelines, not one $group with two $sum accumulators: FerretDB v1 returns 0 for
  // a second $sum in the same $group.
  const [byStatus, stageCounts, stageMs] = await Promise.all([
    runs(db)
      .aggregate<{ _id: string; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }])
      .toArray(),
    runEvents(db)
      .aggregate<{ _id: string; n: number }>([
        { $match: { status: 'completed' } },
        { $group: { _id: '$step', n: { $sum: 1 } } },
      ])
      .toArray(),
    runEvents(db)
      .aggregate<{ _id: string; ms: number }>([
        { $match: { status: 'completed' } },
        { $group: { _id: '$step', ms: { $sum: '$durationMs' } } },
      ])
      .toArray(),
  ]);
  const msByStep = new Map(stageMs.map((s) => [s._id, s.ms]));
  const runsByStatus: Record<string, number> = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0]));
  for (const r of byStatus) if (typeof r._id === 'string') runsByStatus[r._id] = r.n;
  const stages: RunStats['stages'] = {};
  for (const s of stageCounts) {
    if (typeof s._id === 'string') stages[s._id] = { count: s.n, seconds: (msByStep.get(s._id) ?? 0) / 1000 };
  }
  return { runsByStatus, stages };
}
