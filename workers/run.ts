// Process entry shared by workers/{control,gpu,cpu}.ts: config, telemetry, connections,
// then run until SIGINT/SIGTERM, which the Temporal runtime turns into a draining shutdown.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { createActivities } from '../activities';
import { loadConfig, secretValues } from '../lib/config';
import { selectExecutionProvider } from '../lib/hardware/execution-provider';
import { discoverGpus } from '../lib/hardware/gpus';
import { cudaProviderInstalled } from '../lib/ml/ort';
import { openStore } from '../lib/store/db';
import { createWorkerConnection } from '../lib/temporal/connection';
import { createLogger } from '../lib/telemetry/logger';
import { serveMetrics } from '../lib/telemetry/metrics-server';
import { createFleetWorker, FleetKind, fleetConcurrency, fleetQueue } from './bootstrap';
import { prebuiltWorkflowBundle } from './workflow-bundle';

// The SDK's INFO lines (webpack output, state changes) drown our own; show them only at debug.
const SDK_LEVELS = { debug: 'DEBUG', info: 'WARN', warn: 'WARN', error: 'ERROR' } as const;

function gpuGauges(registry: Registry): void {
  const labelNames = ['gpu', 'name'];
  const util = new Gauge({
    name: 'mlops_gpu_utilization_ratio',
    help: 'GPU utilisation (0-1) from nvidia-smi',
    labelNames,
    registers: [registry],
  });
  const mem = new Gauge({
    name: 'mlops_gpu_memory_used_bytes',
    help: 'GPU memory in use from nvidia-smi',
    labelNames,
    registers: [registry],
  });
  const total = new Gauge({
    name: 'mlops_gpu_memory_total_bytes',
    help: 'GPU memory size from nvidia-smi',
    labelNames,
    registers: [registry],
  });
  // Sampled on scrape so the numbers are fresh and no timer keeps running.
  new Gauge({
    name: 'mlops_gpu_devices',
    help: 'GPUs visible to this worker',
    registers: [registry],
    async collect() {
      const gpus = await discoverGpus();
      this.set(gpus.length);
      for (const g of gpus) {
        const labels = { gpu: String(g.index), name: g.name };
        // A field the device does not report (MIG, vGPU: "[N/A]") stays absent rather than NaN.
        const set = (gauge: Gauge, value: number) => Number.isFinite(value) && gauge.set(labels, value);
        set(util, g.utilizationPct / 100);
        set(mem, g.memoryUsedMiB * 2 ** 20);
        set(total, g.memoryTotalMiB * 2 ** 20);
      }
    },
  });
}

export async function runFleetWorker(kind: FleetKind): Promise<void> {
  const cfg = loadConfig();
  const log = createLogger({ name: `${kind}-worker`, level: cfg.MLOPS_LOG_LEVEL, secrets: secretValues(cfg) });
  const gpus = kind === 'gpu' ? await discoverGpus() : [];
  const choice =
    kind === 'gpu'
      ? selectExecutionProvider(cfg.MLOPS_EXECUTION_PROVIDER, {
          gpus: gpus.length,
          cudaProviderInstalled: cudaProviderInstalled(),
        })
      : undefined;
  if (choice) (choice.degraded ? log.warn : log.info)(`training runs on ${choice.provider}: ${choice.reason}`);

  const metricsPort = cfg.MLOPS_WORKER_METRICS_PORT;
  Runtime.install({
    logger: new DefaultLogger(SDK_LEVELS[cfg.MLOPS_LOG_LEVEL]),
    // The SDK's own metrics (task latencies, slots, polls) on the port after ours.
    telemetryOptions: metricsPort
      ? {
          metrics: {
            prometheus: { bindAddress: `${cfg.MLOPS_WORKER_METRICS_HOST}:${metricsPort + 1}` },
            globalTags: { fleet: kind },
          },
        }
      : undefined,
  });

  const registry = new Registry();
  registry.setDefaultLabels({ fleet: kind });
  collectDefaultMetrics({ register: registry });
  if (kind === 'gpu') gpuGauges(registry);
  const metricsServer = metricsPort
    ? await serveMetrics(registry, cfg.MLOPS_WORKER_METRICS_HOST, metricsPort)
    : undefined;

  const store = await openStore(cfg);
  const connection = await createWorkerConnection(cfg);
  try {
    const activities = createActivities({ cfg, store, executionProvider: choice?.provider, registry })[kind];
    const workflowBundle = kind === 'control' ? prebuiltWorkflowBundle() : undefined;
    const worker = await createFleetWorker({ kind, cfg, connection, activities, gpus, workflowBundle });
    log.info('ready', {
      queue: fleetQueue(kind, cfg),
      concurrency: fleetConcurrency(kind, cfg, gpus),
      ...(kind === 'control' ? { workflows: workflowBundle ? 'prebuilt bundle' : 'bundled at start' } : {}),
      metrics: metricsPort ? `http://${cfg.MLOPS_WORKER_METRICS_HOST}:${metricsPort}/metrics` : 'off',
    });
    await worker.run();
    log.info('stopped');
  } finally {
    await connection.close();
    await store.close();
    metricsServer?.close();
  }
}
