// The inference server process (`npm run inference`, started by `npm start` after the API):
// loads config, opens MongoDB (it may be down at start; models load once it answers), listens on
// MLOPS_INFERENCE_HOST:MLOPS_INFERENCE_PORT, and on SIGTERM/SIGINT stops accepting connections,
// lets in-flight requests answer, writes the buffered prediction log and drift sketches and
// exits. With MLOPS_INFERENCE_WORKERS > 1 this process is a node:cluster primary
// (api/cluster.ts) and the workers share the port.
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import http from 'node:http';
import os from 'node:os';
import { runPrimary } from '../api/cluster';
import { createLogger, type Logger } from '../lib/telemetry/logger';
import { loadConfig, secretValues, type Config } from '../lib/config';
import { createStore, openStore, type Store } from '../lib/store/db';
import { ensureDriftSketchIndexes, sweepDriftSketches } from '../lib/store/drift-sketches';
import { ensurePredictionLogIndexes, sweepPredictionLog } from './prediction-log';
import { createInferenceApp, type InferenceApp } from './server';

/** How often expired prediction log entries and drift sketches are deleted where the store has no TTL indexes. */
const SWEEP_EVERY_MS = 10 * 60_000;

export interface RunningInference {
  server: Server;
  url: string;
  app: InferenceApp;
  stop(): Promise<void>;
}

async function openStoreLenient(cfg: Config, log: Logger): Promise<Store> {
  try {
    return await openStore(cfg);
  } catch (err) {
    log.warn('MongoDB unreachable at start; models load once it answers', {
      error: err instanceof Error ? err.name : 'error',
    });
    return createStore(cfg);
  }
}

export async function startInference(
  cfg: Config = loadConfig(),
  opts: { log?: Logger; store?: Store; port?: number; graceMs?: number } = {}
): Promise<RunningInference> {
  const log = opts.log ?? createLogger({ name: 'inference', level: cfg.MLOPS_LOG_LEVEL, secrets: secretValues(cfg) });
  const store = opts.store ?? (await openStoreLenient(cfg, log));
  const ttlDays = cfg.MLOPS_PREDICTION_LOG_TTL_DAYS;
  // The prediction log and the drift sketches expire alike: a TTL index, else a periodic sweep.
  const expiring = [
    { name: 'prediction_log', ensure: ensurePredictionLogIndexes, sweep: sweepPredictionLog },
    { name: 'drift_sketches', ensure: ensureDriftSketchIndexes, sweep: sweepDriftSketches },
  ];
  const sweepers: NodeJS.Timeout[] = [];
  for (const c of expiring) {
    const sweep = () =>
      c
        .sweep(store.db, ttlDays)
        .catch((err) => log.warn(`${c.name} sweep failed (retried later)`, { error: (err as Error).message }));
    c.ensure(store.db, ttlDays).then(
      (ttlIndex) => {
        if (ttlIndex) return;
        void sweep();
        const sweeper = setInterval(sweep, SWEEP_EVERY_MS);
        sweeper.unref();
        sweepers.push(sweeper);
      },
      (err) => log.warn(`${c.name} indexes not created (retried at next start)`, { error: (err as Error).message })
    );
  }
  const port = opts.port ?? cfg.MLOPS_INFERENCE_PORT;
  const app = createInferenceApp(store, cfg, log, `${os.hostname()}:${port}:${process.pid}`);
  const server = http.createServer(app.handler);
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Port ${port} on ${cfg.MLOPS_INFERENCE_HOST} is in use; set MLOPS_INFERENCE_PORT to a free port.`)
          : err
      )
    );
    server.listen(port, cfg.MLOPS_INFERENCE_HOST, () => resolve());
  });
  const addr = server.address();
  const host = cfg.MLOPS_INFERENCE_HOST.includes(':') ? `[${cfg.MLOPS_INFERENCE_HOST}]` : cfg.MLOPS_INFERENCE_HOST;
  const url = `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}`;
  log.info('inference server listening', { url, models: `${url}/v2/models/{name}`, metrics: `${url}/metrics` });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), opts.graceMs ?? 10_000);
      timer.unref();
      await closed;
      clearTimeout(timer);
      sweepers.forEach(clearInterval);
      await app.close();
      if (!opts.store) await store.close();
      log.info('inference server stopped');
    })());
  return { server, url, app, stop };
}

function main(): void {
  const cfg = loadConfig();
  if (cfg.MLOPS_INFERENCE_WORKERS > 1 && cluster.isPrimary) {
    runPrimary(cfg, { name: 'inference', workers: cfg.MLOPS_INFERENCE_WORKERS, port: cfg.MLOPS_INFERENCE_PORT }).catch(
      (err) => {
        console.error(`inference: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      }
    );
    return;
  }
  startInference(cfg).then(
    (running) => {
      const onSignal = () =>
        void running.stop().then(
          () => process.exit(0),
          () => process.exit(1)
        );
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    },
    (err) => {
      console.error(`inference: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    }
  );
}

if (require.main === module) main();
