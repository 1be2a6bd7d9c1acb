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

  new client.Gauge({
    name: 'mlops_runs',
    help: 'Pipeline runs recorded in MongoDB, by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const snap = await read();
      if (!snap.runsByStatus) return;
      this.reset();
      for (const [status, n] of Object.entries(snap.runsByStatus)) this.set({ status }, n);
    },
  });
  new client.Counter({
    name: 'mlops_stage_completions_total',
    help: 'Completed pipeline stage executions recorded in MongoDB, by stage',
    labelNames: ['stage'] as const,
    registers: [registry],
    async collect() {
      const snap = await read();
      if (!snap.stages) return;
      this.reset();
      for (const [stage, s] of Object.entries(snap.stages)) this.inc({ stage }, s.count);
    },
  });
  new client.Counter({
    name: 'mlops_stage_duration_seconds_total',
    help: 'Summed duration of completed pipeline stages, by stage (divide by mlops_stage_completions_total for the mean)',
    labelNames: ['stage'] as const,
    registers: [registry],
    async collect() {
      const snap = await read();
      if (!snap.stages) return;
      this.reset();
      for (const [stage, s] of Object.entries(snap.stages)) this.inc({ stage }, s.seconds);
    },
  });

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
