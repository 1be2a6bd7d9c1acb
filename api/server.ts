// The API process: loads config, bootstraps the admin token, opens MongoDB and Temporal
// (either may be down at start: /readyz says which, and the process keeps retrying),
// listens, and on SIGTERM/SIGINT stops accepting connections, lets in-flight requests
// finish (up to MLOPS_API_SHUTDOWN_GRACE_MS, default 10 s), then closes its clients.
// With MLOPS_API_WORKERS > 1 this process is the cluster primary (api/cluster.ts).
import cluster from 'node:cluster';
import type { Server, ServerResponse } from 'node:http';
import { ensureAdminToken } from '../lib/auth/admin-token';
import { loadConfig, secretValues, type Config } from '../lib/config';
import { createStore, openStore, type Store } from '../lib/store/db';
import { createClient } from '../lib/temporal/connection';
import { createApp, prepareStore } from './app';
import { createLogger, type Logger } from '../lib/telemetry/logger';
import { gatewayFromFactory } from './temporal';
import { runPrimary, runsReconciler } from './cluster';
import { ensureRunIndex, startReconciler } from './reconciler';

export interface RunningServer {
  server: Server;
  url: string;
  /** Graceful stop: no new connections, in-flight requests finish, clients close. */
  stop(): Promise<void>;
}

/** Opens MongoDB; if it is down, returns a store whose client connects on first use. */
async function openStoreLenient(cfg: Config, log: Logger): Promise<Store> {
  try {
    return await openStore(cfg);
  } catch (err) {
    log.warn('MongoDB unreachable at start; /readyz reports it until it is back', {
      error: err instanceof Error ? err.name : 'error',
    });
    return createStore(cfg);
  }
}

export async function startServer(
  cfg: Config = loadConfig(),
  opts: { log?: Logger; graceMs?: number } = {}
): Promise<RunningServer> {
  const admin = await ensureAdminToken(cfg);
  const log = opts.log ?? createLogger({ level: cfg.MLOPS_LOG_LEVEL, secrets: [...secretValues(cfg), admin.token] });
  const store = await openStoreLenient(cfg, log);
  const temporal = gatewayFromFactory(() => createClient(cfg));

  // Indexes and the admin token hash: retried in the background until MongoDB answers.
  let prepared = false;
  let stopped = false;
  const prepare = async (): Promise<void> => {
    for (let delay = 500; !prepared && !stopped; delay = Math.min(delay * 2, 10_000)) {
      try {
        await prepareStore(store, admin.token);
        prepared = true;
        ensureRunIndex(store, log).catch((err) =>
          log.error('run index build failed', { error: err instanceof Error ? err.message : String(err) })
        );
      } catch (err) {
        log.warn('store preparation failed; retrying', {
          error: err instanceof Error ? err.message : String(err),
          retryMs: delay,
        });
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  };
  // Wait up to 3 s so a healthy stack starts prepared; otherwise keep trying in the background.
  await Promise.race([prepare(), new Promise((r) => setTimeout(r, 3_000).unref())]);
  temporal.client().catch(() => log.warn('Temporal unreachable at start; /readyz reports it until it is back'));

  const app = createApp({ cfg, store, temporal, log });
  const reconciler = runsReconciler() ? startReconciler({ store, temporal, log, cfg }) : null;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(cfg.MLOPS_API_PORT, cfg.MLOPS_API_HOST, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new Error(`Port ${cfg.MLOPS_API_PORT} on ${cfg.MLOPS_API_HOST} is in use; set MLOPS_API_PORT to a free port.`)
        );
      } else reject(err);
    });
  });
  let draining = false;
  // While draining, answers carry Connection: close so keep-alive clients reconnect
  // elsewhere; set at header time, so requests already in flight get it too.
  server.on('request', (_req, res: ServerResponse) => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
      if (draining && !this.headersSent) this.setHeader('Connection', 'close');
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.MLOPS_API_PORT;
  const url = `http://${cfg.MLOPS_API_HOST.includes(':') ? `[${cfg.MLOPS_API_HOST}]` : cfg.MLOPS_API_HOST}:${port}`;
  log.info('api listening', {
    url,
    openapi: `${url}/openapi.json`,
    metrics: `${url}/metrics`,
    adminToken: admin.path ?? 'from MLOPS_ADMIN_TOKEN',
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const graceMs = opts.graceMs ?? 10_000;
      draining = true;
      log.info('api stopping: finishing in-flight requests', { graceMs });
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        log.warn('grace period over; closing remaining connections');
        server.closeAllConnections();
      }, graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
      stopped = true; // ends the background retry loop
      reconciler?.stop();
      await Promise.allSettled([temporal.close(), store.close()]);
      log.info('api stopped');
    })());
  return { server, url, stop };
}

function main(): void {
  const cfg = loadConfig();
  if (cfg.MLOPS_API_WORKERS > 1 && cluster.isPrimary) {
    runPrimary(cfg).catch((err) => {
      console.error(`api: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
    return;
  }
  startServer(cfg).then(
    (running) => {
      const onSignal = (sig: NodeJS.Signals): void => {
        running.stop().then(
          () => process.exit(0),
          (err) => {
            console.error(`api: shutdown after ${sig} failed:`, err instanceof Error ? err.message : err);
            process.exit(1);
          }
        );
      };
      // stop() runs once; a repeated signal (Ctrl-C reaches cluster workers twice: from the
      // terminal and from the primary) must not end the drain early.
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    },
    (err) => {
      console.error(`api: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    }
  );
}

if (require.main === module) main();
