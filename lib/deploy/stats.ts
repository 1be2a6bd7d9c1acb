// Reading a step's window of serving_stats for one version: every server's windows that overlap
// [since, until], added up. The window containing `since` is included whole (windows are
// STATS_WINDOW_MS long), so a short step still sees the answers given right after its split.
import type { Store } from '../store/db';
import { servingStats, STATS_WINDOW_MS } from '../store/deployments';
import { sumStats, type VersionStats } from './gates';

export async function windowStats(
  store: Pick<Store, 'db'>,
  q: { model: string; version: number; shadow: boolean; since: number; until?: number }
): Promise<VersionStats> {
  const windowStart: Record<string, Date> = { $gt: new Date(q.since - STATS_WINDOW_MS) };
  if (q.until !== undefined) windowStart.$lte = new Date(q.until);
  const docs = await servingStats(store.db)
    .find({ model: q.model, version: q.version, shadow: q.shadow, windowStart })
    .limit(100_000)
    .toArray();
  return sumStats(docs);
}
