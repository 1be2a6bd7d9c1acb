// Prometheus metrics of the API (prom-client, one registry per app so tests can build
// several apps in a process). Names follow the Prometheus conventions (`promtool check
// metrics`): base units, `_total` on counters, snake case, a `mlops_` prefix.
import client from 'prom-client';

export interface MetricsSnapshot {
  /** Runs per status, e.g. { running: 3, succeeded: 10 }. */
  runsByStatus?: Record<string, number>;
  /** Per stage: completed step events and their summed duration in seconds. */
  stages?: Record<string, { count: number; seconds: number }>;
}

export interface ApiMetrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  authFailures: client.Counter<'reason'>;
  runsStarted: client.Counter<never>;
}

/**
 * @param snapshot read at scrape time (cached by the caller); failures leave the previous
 *   values in place and count in mlops_metrics_collect_errors_total.
 */
export function createMetrics(snapshot?: () => Promise<MetricsSnapshot>): ApiMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  // prom-client's nodejs_active_{handles,requests,resources}_total are gauges, which
  // `promtool check metrics` flags (_total is for counters); the same figures stay
  // available, by type, without the suffix.
  for (const m of registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    if (name.endsWith('_total') && type !== 'counter') registry.removeSingleMetric(name);
  }

  const httpDuration = new client.Histogram({
    name: 'mlops_http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const authFailures = new client.Counter({
    name: 'mlops_auth_failures_total',
    help: 'Refused authentication attempts by reason (missing, invalid, rate_limited)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const runsStarted = new client.Counter({
    name: 'mlops_runs_started_total',
    help: 'Pipeline runs started through this API process',
    registers: [registry],
  });
  const collectErrors = new client.Counter({
    name: 'mlops_metrics_collect_errors_total',
    help: 'Failures reading run and stage figures from MongoDB at scrape time',
    registers: [registry],
  });

  let latest: Promise<MetricsSnapshot> | undefined;
  const read = async (): Promise<MetricsSnapshot> => {
    if (!snapshot) return {};
    latest ??= snapshot().finally(() => {
      latest = undefined;
    });
    try {
      return await latest;
    } catch {
      collectErrors.inc();
      return {};
    }
  };

  /** A metric read from the store at scrape time: one value per label from `values(snapshot)`. */
  const fromSnapshot = (
    Type: typeof client.Gauge | typeof client.Counter,
    name: string,
    help: string,
    label: string,
    values: (snap: MetricsSnapshot) => Record<string, number> | undefined
  ) =>
    new Type({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      async collect() {
        const v = values(await read());
        if (!v) return;
        this.reset();
        for (const [key, n] of Object.entries(v)) {
          if (this instanceof client.Gauge) this.set({ [label]: key }, n);
          else this.inc({ [label]: key }, n);
        }
      },
    });
  const byStage = (pick: (s: { count: number; seconds: number }) => number) => (snap: MetricsSnapshot) =>
    snap.stages && Object.fromEntries(Object.entries(snap.stages).map(([stage, s]) => [stage, pick(s)]));
  fromSnapshot(
    client.Gauge,
    'mlops_runs',
    'Pipeline runs recorded in MongoDB, by status',
    'status',
    (s) => s.runsByStatus
  );
  fromSnapshot(
    client.Counter,
    'mlops_stage_completions_total',
    'Completed pipeline stage executions recorded in MongoDB, by stage',
    'stage',
    byStage((s) => s.count)
  );
  fromSnapshot(
    client.Counter,
    'mlops_stage_duration_seconds_total',
    'Summed duration of completed pipeline stages, by stage (divide by mlops_stage_completions_total for the mean)',
    'stage',
    byStage((s) => s.seconds)
  );

  return { registry, httpDuration, authFailures, runsStarted };
}

/** Caches an async producer for `ttlMs`, so scrapes do not hit MongoDB each time. */
export function cached<T>(produce: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let value: { at: number; data: T } | undefined;
  let inflight: Promise<T> | undefined;
  return async () => {
    if (value && Date.now() - value.at < ttlMs) return value.data;
    inflight ??= produce()
      .then((data) => {
        value = { at: Date.now(), data };
        return data;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
