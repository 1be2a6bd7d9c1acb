// Control queue: records every hyperparameter-search trial as a point of the run's "search" metric
// series (step = trial index), failed ones too, so the API shows the whole search.
import { recordMetric } from '../lib/store/metrics';
import type { ActivityDeps } from './common';

export interface SearchTrialRecord {
  runId: string;
  index: number;
  values: Record<string, unknown>;
  status: 'succeeded' | 'failed';
  metric: number | null;
}

export function createSearchActivities(deps: ActivityDeps) {
  return {
    async recordSearchTrial(t: SearchTrialRecord): Promise<void> {
      const values: Record<string, number> = { succeeded: t.status === 'succeeded' ? 1 : 0 };
      if (t.metric !== null) values.metric = t.metric;
      // Stored field names may not contain '.' ("params.lr" -> "params_lr").
      for (const [k, v] of Object.entries(t.values)) if (typeof v === 'number') values[k.replace(/[.$]/g, '_')] = v;
      await recordMetric(deps.store, { runId: t.runId, series: 'search', step: t.index, values });
    },
  };
}
