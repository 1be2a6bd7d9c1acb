// Keeps the run index complete and its status keys current without help from writers:
// every interval it (1) lists `pipeline` workflows started since the last pass from Temporal
// visibility (indexed, cheap) and indexes their run documents by `_id`, and (2) re-reads the
// runs indexed under an open status and moves those that changed. At start, an empty index
// over existing runs is rebuilt with one scan.
import type { Logger } from '../lib/telemetry/logger';
import type { TemporalGateway } from './temporal';
import type { Config } from '../lib/config';
import type { Store } from '../lib/store/db';
import { entryOf, indexRun, rebuildRunIndex, runIndexExists, sweepOpenRuns } from '../lib/store/run-index';
import { getRun, runs } from '../lib/store/runs';
import { regionQueue } from '../lib/workflow-safe/queues';
import { PIPELINE_WORKFLOW } from './pipeline';

/** Runs started this long before the previous pass are looked at again (their documents may lag). */
const OVERLAP_MS = 10 * 60_000;

export async function reconcileRunIndex(
  deps: {
    store: Store;
    temporal: TemporalGateway;
    cfg: Pick<Config, 'TEMPORAL_NAMESPACE' | 'queues' | 'MLOPS_REGIONS'>;
  },
  sinceMs: number,
  max = 10_000
): Promise<{ indexed: number; newest: number }> {
  const client = await deps.temporal.client();
  // The default control queue and each configured region's.
  const controlQueues = ['', ...deps.cfg.MLOPS_REGIONS].map(
    (r) => `TaskQueue = '${regionQueue(deps.cfg.queues.control, r)}'`
  );
  const query =
    `WorkflowType = '${PIPELINE_WORKFLOW}' AND (${controlQueues.join(' OR ')})` +
    ` AND StartTime >= '${new Date(sinceMs).toISOString()}'`;
  let indexed = 0;
  let newest = sinceMs;
  let seen = 0;
  let nextPageToken: Uint8Array | undefined;
  // The raw visibility call: only ids and start times are needed, and decoding memos would
  // need the payload keys of whoever started each workflow.
  do {
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: deps.cfg.TEMPORAL_NAMESPACE,
      query,
      pageSize: 500,
      nextPageToken,
    });
    for (const ex of page.executions ?? []) {
      const id = ex.execution?.workflowId;
      if (!id || ++seen > max) continue;
      const started = Number(ex.startTime?.seconds ?? 0) * 1000;
      newest = Math.max(newest, started);
      const doc = await getRun(deps.store, id);
      if (doc) {
        await indexRun(deps.store.db, entryOf(doc));
        indexed++;
      }
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken && seen < max);
  return { indexed, newest };
}

/** Rebuilds the index when it is missing but runs exist (first start on an older database). */
export async function ensureRunIndex(store: Store, log: Logger): Promise<void> {
  if (await runIndexExists(store.db)) return;
  if ((await runs(store.db).estimatedDocumentCount()) === 0) return;
  const t0 = Date.now();
  log.info('building the run index from the runs collection (one scan)');
  const n = await rebuildRunIndex(store.db);
  log.info('run index built', { runs: n, ms: Date.now() - t0 });
}

export function startReconciler(
  deps: {
    store: Store;
    temporal: TemporalGateway;
    log: Logger;
    cfg: Pick<Config, 'TEMPORAL_NAMESPACE' | 'queues' | 'MLOPS_REGIONS'>;
  },
  intervalMs = 15_000
): { stop(): void } {
  let since = Date.now() - 24 * 3600_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const pass = async () => {
    try {
      const r = await reconcileRunIndex(deps, since);
      since = Math.max(since, r.newest - OVERLAP_MS);
      await sweepOpenRuns(deps.store.db, (id) => getRun(deps.store, id));
    } catch (err) {
      deps.log.debug('run index reconcile skipped', { error: err instanceof Error ? err.message : String(err) });
    }
    if (!stopped) timer = setTimeout(pass, intervalMs).unref();
  };
  timer = setTimeout(pass, 1_000).unref();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
