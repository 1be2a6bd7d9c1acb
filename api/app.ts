// The Express app factory. It never listens: api/server.ts does, and tests mount the app
// on port 0. Everything the app needs comes in through `deps`.
import { randomUUID } from 'node:crypto';
import express, { type Express, type Request, type RequestHandler } from 'express';
import type { Config } from '../lib/config';
import type { Store } from '../lib/store/db';
import { ensureAuditIndexes } from '../lib/store/audit';
import { ensureIdempotencyIndexes } from '../lib/store/idempotency';
import { ensurePipelineIndexes } from '../lib/store/pipeline';
import { readRunStats } from '../lib/store/run-stats';
import { ensureTokenIndexes, upsertAdminToken } from '../lib/store/tokens';
import { authenticate, requirePermission, TokenCache } from './auth';
import { edgeGuards } from './edge-guards';
import { type ApiContext, makeAudit } from './context';
import { notFoundHandler, problemHandler, problems } from './errors';
import { createLogger, type Logger } from '../lib/telemetry/logger';
import { type ApiMetrics, cached, createMetrics } from './metrics';
import { buildOpenApi } from './openapi';
import { FailureLimiter } from './rate-limit';
import { routeHandler, type RouteDef } from './route';
import { auditRoutes } from './routes/audit';
import { batchRoutes } from './routes/batch-predictions';
import { codecCors, codecRoutes } from './routes/codec';
import { deploymentRoutes } from './routes/deployments';
import { featureRoutes } from './routes/features';
import { modelRoutes } from './routes/models';
import { monitoringRoutes } from './routes/monitoring';
import { policyRoutes, RAW_BODY_PATHS } from './routes/policy';
import { runRoutes } from './routes/runs';
import { sessionRoutes } from './routes/session';
import { systemRoutes } from './routes/system';
import { tokenRoutes } from './routes/tokens';
import type { TemporalGateway } from './temporal';
import { parseRequest } from './validation';

export interface ApiLimits {
  /** Largest request body in bytes (default cfg.MLOPS_MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** Failed token attempts per address and window before 429 (default cfg.MLOPS_AUTH_FAILURE_LIMIT). */
  authFailures: number;
  authFailureWindowMs: number;
  /** How long a token lookup is cached (default 5 s). */
  tokenCacheTtlMs: number;
  /** How long /metrics reuses run and stage figures read from MongoDB (default 15 s). */
  metricsCacheMs: number;
  /** How long an open run's status, re-read for a list page, is reused (default 2 s). */
  runCacheMs: number;
}

export interface AppDeps {
  cfg: Config;
  store: Store;
  temporal: TemporalGateway;
  log?: Logger;
  metrics?: ApiMetrics;
  limits?: Partial<ApiLimits>;
  /** Trust X-Forwarded-For from this many proxies (express `trust proxy`); default cfg.MLOPS_TRUST_PROXY_HOPS. */
  trustProxy?: number;
}

export interface MlopsApp extends Express {
  /** The route declarations (also the source of /openapi.json). */
  routes: RouteDef[];
  ctx: ApiContext;
}

export function createApp(deps: AppDeps): MlopsApp {
  const limits: ApiLimits = {
    maxBodyBytes: deps.cfg.MLOPS_MAX_BODY_BYTES,
    authFailures: deps.cfg.MLOPS_AUTH_FAILURE_LIMIT,
    authFailureWindowMs: deps.cfg.MLOPS_AUTH_FAILURE_WINDOW_S * 1000,
    tokenCacheTtlMs: 5_000,
    metricsCacheMs: 15_000,
    runCacheMs: 2_000,
    ...deps.limits,
  };
  const log = deps.log ?? createLogger({ level: deps.cfg.MLOPS_LOG_LEVEL });
  const db = deps.store.db;
  const metrics = deps.metrics ?? createMetrics(cached(() => readRunStats(db), limits.metricsCacheMs));
  const ctx: ApiContext = {
    cfg: deps.cfg,
    store: deps.store,
    db,
    temporal: deps.temporal,
    log,
    metrics,
    tokenCache: new TokenCache(db, limits.tokenCacheTtlMs),
    audit: makeAudit(deps.store, log),
  };
  const limiter = new FailureLimiter(limits.authFailures, limits.authFailureWindowMs);

  const app = express() as unknown as MlopsApp;
  app.disable('x-powered-by');
  app.set('etag', false);
  // No nested objects from the query string: ?status[$gt]= stays a plain key.
  app.set('query parser', 'simple');
  // The client address keys the failed-token limiter: behind a proxy, trust exactly as many
  // X-Forwarded-For hops as there are proxies, or every client shares the proxy's address.
  const hops = deps.trustProxy ?? deps.cfg.MLOPS_TRUST_PROXY_HOPS;
  app.set('trust proxy', hops > 0 ? hops : false);

  app.use(requestContext(metrics, log));
  app.use(
    express.json({
      limit: limits.maxBodyBytes,
      strict: true,
      type: ['application/json', 'application/*+json'],
      // Webhook signatures cover the raw bytes, so those routes keep them.
      verify: (req, _res, buf) => {
        if (RAW_BODY_PATHS.some((p) => req.url?.startsWith(p))) (req as { rawBody?: Buffer }).rawBody = buf;
      },
    })
  );

  let openapiDoc: Record<string, unknown> | undefined;
  const routes: RouteDef[] = [];
  routes.push(
    ...systemRoutes(ctx, () => (openapiDoc ??= buildOpenApi(routes))),
    ...runRoutes(ctx, limits.runCacheMs),
    ...modelRoutes(ctx),
    ...monitoringRoutes(ctx),
    ...tokenRoutes(ctx),
    ...auditRoutes(ctx),
    ...codecRoutes(ctx),
    ...batchRoutes(ctx),
    ...deploymentRoutes(ctx),
    ...featureRoutes(ctx),
    ...sessionRoutes(ctx),
    ...policyRoutes(ctx)
  );
  app.use('/codec', codecCors(deps.cfg));

  const auth = authenticate(ctx.tokenCache, limiter, metrics);
  const cookieAuth = authenticate(ctx.tokenCache, limiter, metrics, { sessionCookie: true });
  const byPath = new Map<string, { methods: Set<string>; public: boolean }>();
  for (const r of routes) {
    const chain: RequestHandler[] = r.permission
      ? [r.sessionCookie ? cookieAuth : auth, requirePermission(r.permission)]
      : [];
    chain.push(...edgeGuards(r.method, r.path));
    app[r.method](r.path, ...chain, routeHandler(r, parseRequest));
    const entry = byPath.get(r.path) ?? { methods: new Set<string>(), public: false };
    entry.methods.add(r.method.toUpperCase());
    entry.public ||= r.permission === null;
    byPath.set(r.path, entry);
  }
  // A known path with another method: 405 with Allow (after auth, so it reveals nothing).
  for (const [path, entry] of byPath) {
    const allow = [...entry.methods].join(', ');
    app.all(path, ...(entry.public ? [] : [auth]), (req, res, next) => {
      res.setHeader('Allow', allow);
      next(problems.methodNotAllowed(`${req.method} is not supported on ${req.path}; use ${allow}.`));
    });
  }
  app.use(notFoundHandler);
  app.use(problemHandler(log));

  app.routes = routes;
  app.ctx = ctx;
  return app;
}

/** Request id, no-store caching, security headers, access log and the duration histogram. */
function requestContext(metrics: ApiMetrics, log: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = routeLabel(req);
      metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      log.debug('request', {
        requestId,
        method: req.method,
        route,
        status: res.statusCode,
        ms: Math.round(seconds * 1e4) / 10,
        tokenId: (res.locals.principal as { tokenId?: string } | undefined)?.tokenId,
      });
    });
    next();
  };
}

function routeLabel(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

/** Indexes of the API's and the pipeline's collections, and the bootstrap admin token's hash. */
export async function prepareStore(store: Store, adminToken?: string): Promise<void> {
  await Promise.all([
    ensureTokenIndexes(store.db),
    ensureAuditIndexes(store.db),
    ensureIdempotencyIndexes(store.db),
    ensurePipelineIndexes(store.db),
  ]);
  if (adminToken) await upsertAdminToken(store.db, adminToken);
}
