// The inference server: the serving role of the CPU fleet, a process of its own (an online request
// cannot carry a task-queue round trip). Plain node:http, because the whole request is a JSON
// parse, a few typed-array copies and one ONNX Runtime call, and a framework's routing and hooks
// would be most of the remaining cost. Routes (Open Inference Protocol v2 REST):
//   GET  /v2/health/live, /v2/health/ready, /v2                     no token
//   GET  /v2/models/{m}[/versions/{v}], …/ready; POST …/infer        token with `infer`
//   GET  /metrics                                                     token with `read`
// Every model answer names its version (body model_version, header x-model-version). Errors
// are {"error": "..."}; a malformed body is always a 4xx, never a 5xx. Requests for a model name
// are split between stable and candidate by the caller key (x-mlops-caller, else the request id),
// mirrored to a shadow candidate in shadow mode, counted per version (version-stats.ts), and
// sketched for drift monitoring (drift-sketches.ts).
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { can, rolesWith, type Permission } from '../lib/auth/roles';
import { hashToken } from '../lib/auth/tokens';
import type { Config } from '../lib/config';
import { MODEL_NAME_RE } from '../lib/spec/schema';
import type { Logger } from '../lib/telemetry/logger';
import type { Store } from '../lib/store/db';
import { TokenCache } from '../api/auth';
import { FailureLimiter } from '../api/rate-limit';
import type { TokenDoc } from '../lib/store/tokens';
import { createServingMetrics, outcomeOf, type ServingMetrics } from './metrics';
import { PredictionLog } from './prediction-log';
import { checkRowCount, takeRowIds } from './row-ids';
import { decodeInputs, encodeOutputs, parseRequest, ProtocolError, selectOutputs, type ModelSchema } from './protocol';
import { ServedModels, type Picked } from './served-models';
import { InjectedFault } from './faults';
import { ShadowMirror, sinceMs } from './shadow';
import { VersionStats } from './version-stats';
import { DriftSketches } from './drift-sketches';
import { OnlineFeatures } from './online-features';
import type { LoadedModel } from './loaded-model';
import { PACKAGE_ROOT } from '../lib/package-root';

export const VERSION_HEADER = 'x-model-version';
const SERVER_NAME = 'mlops-inference';
const SERVER_VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
/** A token seen valid this recently is answered from memory while its re-read is pending (store slow or down). */
const TOKEN_STALE_MS = 10 * 60_000;

export type ServingConfig = Pick<
  Config,
  | 'MLOPS_INFERENCE_MAX_BODY_BYTES'
  | 'MLOPS_INFERENCE_MAX_ROWS'
  | 'MLOPS_INFERENCE_BATCHING'
  | 'MLOPS_INFERENCE_BATCH_MAX_ROWS'
  | 'MLOPS_INFERENCE_BATCH_DELAY_MS'
  | 'MLOPS_INFERENCE_POLL_MS'
  | 'MLOPS_PREDICTION_LOG_SAMPLE'
  | 'MLOPS_PREDICTION_LOG_BUFFER'
  | 'MLOPS_PREDICTION_LOG_TTL_DAYS'
  | 'MLOPS_DRIFT_SKETCH_BUCKET_S'
  | 'MLOPS_AUTH_FAILURE_LIMIT'
  | 'MLOPS_AUTH_FAILURE_WINDOW_S'
  | 'MLOPS_INFERENCE_FAULTS'
>;

/** Header naming the caller whose requests should meet the same version of a split. */
export const CALLER_HEADER = 'x-mlops-caller';
const CALLER_KEY_MAX = 256;

export interface InferenceApp {
  handler: http.RequestListener;
  models: ServedModels;
  metrics: ServingMetrics;
  predictionLog: PredictionLog;
  stats: VersionStats;
  sketches: DriftSketches;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Set when a model answered (for the version header and metrics). */
  model?: LoadedModel;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, body, headers });
const fail = (status: number, error: string, headers?: Record<string, string>): Reply =>
  json(status, { error }, headers);

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer))?$/;

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(
        new ProtocolError(
          413,
          `the body has ${declared} bytes; at most ${limit} are accepted (MLOPS_INFERENCE_MAX_BODY_BYTES)`
        )
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(
          new ProtocolError(
            413,
            `the body exceeds ${limit} bytes (MLOPS_INFERENCE_MAX_BODY_BYTES); send fewer rows per request`
          )
        );
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const versionOf = (m: LoadedModel) => ({ model: m.name, version: m.version });

/** Whether two versions take the same feature columns, so a decoded request fits both. */
const sameInputs = (a: ModelSchema, b: ModelSchema) =>
  a.packed === b.packed &&
  a.numeric.join('\0') === b.numeric.join('\0') &&
  a.categorical.join('\0') === b.categorical.join('\0');

export function metadataOf(model: LoadedModel): Record<string, unknown> {
  const s: ModelSchema = model.schema;
  return {
    name: model.name,
    versions: [String(model.version)],
    platform: 'onnxruntime_onnx',
    inputs: s.inputs,
    outputs: s.outputs,
    parameters: {
      task: s.task,
      ...(s.classes ? { classes: s.classes } : {}),
      artifact_sha256: model.served.artifact.sha256,
      graph_inputs: s.graphInputs,
      missing_values: 'null (numeric: imputed with the training median; categorical: the missing category)',
    },
  };
}

/** The first of a header's values, when it is short enough to be a key. */
function headerKey(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const text = Array.isArray(v) ? v[0] : v;
  return text && text.length <= CALLER_KEY_MAX ? text : undefined;
}

export function createInferenceApp(
  store: Pick<Store, 'db' | 'keyring'>,
  cfg: ServingConfig,
  log: Logger,
  /** This server in `serving_stats` and `serving_instances` (host:port:pid). */
  serverId = `${os.hostname()}:${process.pid}`
): InferenceApp {
  const metrics = createServingMetrics();
  const batching =
    cfg.MLOPS_INFERENCE_BATCHING === '1'
      ? { maxRows: cfg.MLOPS_INFERENCE_BATCH_MAX_ROWS, delayMs: cfg.MLOPS_INFERENCE_BATCH_DELAY_MS }
      : null;
  const faults = cfg.MLOPS_INFERENCE_FAULTS;
  if (faults && Object.keys(faults).length) {
    log.warn('FAULT INJECTION IS ON (MLOPS_INFERENCE_FAULTS): these versions are made slow or failing on purpose', {
      faults,
    });
  }
  const models = new ServedModels(store, {
    batching,
    metrics,
    faults,
    pollMs: cfg.MLOPS_INFERENCE_POLL_MS,
    log,
    serverId,
  });
  models.start();
  const stats = new VersionStats(store.db, serverId, metrics);
  const sketches = new DriftSketches(store.db, serverId, metrics, cfg.MLOPS_DRIFT_SKETCH_BUCKET_S * 1000);
  const statsTimer = setInterval(() => {
    void stats.flush();
    void sketches.flush();
  }, cfg.MLOPS_INFERENCE_POLL_MS);
  statsTimer.unref();
  const shadow = new ShadowMirror(stats, metrics);
  const predictionLog = new PredictionLog(
    store.db,
    {
      sample: cfg.MLOPS_PREDICTION_LOG_SAMPLE,
      buffer: cfg.MLOPS_PREDICTION_LOG_BUFFER,
      ttlDays: cfg.MLOPS_PREDICTION_LOG_TTL_DAYS,
    },
    metrics
  );
  const tokens = new TokenCache(store.db, 5_000, TOKEN_STALE_MS);
  const onlineFeatures = new OnlineFeatures(store);
  const limiter = new FailureLimiter(cfg.MLOPS_AUTH_FAILURE_LIMIT, cfg.MLOPS_AUTH_FAILURE_WINDOW_S * 1000);

  async function authorize(req: http.IncomingMessage, permission: Permission): Promise<TokenDoc | Reply> {
    const header = req.headers.authorization;
    const key = req.socket.remoteAddress ?? 'unknown';
    if (!header)
      return fail(401, 'send a bearer token: Authorization: Bearer <token> (a predictor token from POST /v1/tokens)');
    const wait = limiter.blockedFor(key);
    if (wait > 0)
      return fail(429, `too many failed token attempts from this address; retry in ${wait} s`, {
        'retry-after': String(wait),
      });
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    let doc: TokenDoc | null = null;
    if (match) {
      try {
        doc = await tokens.lookup(hashToken(match[1]));
      } catch {
        return fail(
          503,
          'the token store (MongoDB) is unreachable and this token was not seen recently; retry shortly',
          {
            'retry-after': '5',
          }
        );
      }
    }
    if (!doc) {
      limiter.recordFailure(key);
      return fail(401, 'the token is unknown, revoked or expired (the header must be "Bearer <token>")');
    }
    if (!can(doc.role, permission)) {
      return fail(
        403,
        `role ${doc.role} may not do this (needs ${permission}, held by: ${rolesWith(permission).join(', ')})`
      );
    }
    return doc;
  }

  async function modelRoute(
    req: http.IncomingMessage,
    m: RegExpExecArray,
    requestId: string,
    started: bigint
  ): Promise<Reply> {
    let name: string;
    let versionText: string | undefined;
    try {
      name = decodeURIComponent(m[1]);
      versionText = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    } catch {
      return fail(400, 'the model name or version is not valid percent-encoding');
    }
    const action = m[3] as 'ready' | 'infer' | undefined;
    const method = action === 'infer' ? 'POST' : 'GET';
    if (req.method !== method) return fail(405, `use ${method} for this route`, { allow: method });
    if (!MODEL_NAME_RE.test(name)) return fail(400, `model name '${name.slice(0, 80)}' must match ${MODEL_NAME_RE}`);
    if (versionText !== undefined && !/^[1-9]\d{0,8}$/.test(versionText)) {
      return fail(400, `version '${versionText.slice(0, 20)}' must be a positive integer, e.g. /versions/3`);
    }
    const principal = await authorize(req, 'infer');
    if ('status' in principal) return principal;
    // The body is read (and its size checked) before any model is loaded for it.
    const text = action === 'infer' ? await readBody(req, cfg.MLOPS_INFERENCE_MAX_BODY_BYTES) : '';
    const request = action === 'infer' ? parseRequest(text) : undefined;
    // Routed by name: split by caller key and counted per version. Pinned: neither.
    const live = versionText === undefined;
    let picked: Picked;
    try {
      picked = live
        ? await models.pick(
            name,
            headerKey(req, CALLER_HEADER) ?? request?.id ?? headerKey(req, 'x-request-id') ?? requestId,
            action === 'infer'
          )
        : { model: await models.acquire(name, Number(versionText)), shadow: null };
    } catch (err) {
      if (action === 'ready' && err instanceof ProtocolError && err.status === 503) {
        return json(503, { name, ready: false, error: err.message });
      }
      throw err;
    }
    const { model } = picked;
    let mirrored = picked.shadow;
    try {
      if (action === 'ready') return { ...json(200, { name, ready: true }), model };
      if (!request) return { ...json(200, metadataOf(model)), model };
      // The row ids of the model's id column, if it has one: taken out before anything else
      // reads the inputs, so the model and the drift sketches never see them.
      const idColumn = models.idColumnOf(model.name);
      const { request: asked, rowIds } = takeRowIds(request, idColumn);
      // Entity ids instead of feature columns: filled in from the online store (docs/features.md).
      const online = await onlineFeatures.fill(model, asked);
      const block = decodeInputs(model.schema, online?.request ?? asked, cfg.MLOPS_INFERENCE_MAX_ROWS);
      checkRowCount(rowIds, block.rows, idColumn);
      const wanted = selectOutputs(model.schema, request);
      const predicted = model.predict(block);
      if (mirrored) {
        const candidate = mirrored;
        const rows = sameInputs(model.schema, candidate.schema)
          ? () => block
          : () => decodeInputs(candidate.schema, asked, cfg.MLOPS_INFERENCE_MAX_ROWS);
        shadow.mirror(candidate, rows, predicted, started);
        mirrored = null; // released by the mirror
      }
      let prediction;
      try {
        prediction = await predicted;
      } catch (err) {
        if (live) stats.record({ ...versionOf(model), shadow: false, latencyMs: sinceMs(started), error: true });
        if (!(err instanceof InjectedFault)) {
          log.error('model run failed', { model: model.name, version: model.version, error: (err as Error).message });
        }
        return { ...fail(500, `the model failed on this request (${(err as Error).message})`), model };
      }
      if (live)
        stats.record({ ...versionOf(model), shadow: false, latencyMs: sinceMs(started), error: false, prediction });
      const body = {
        model_name: model.name,
        model_version: String(model.version),
        id: request.id ?? requestId,
        outputs: encodeOutputs(prediction, wanted),
        ...(online ? { parameters: { feature_timestamps: online.timestamps } } : {}),
      };
      // Every answer is sketched for monitoring (the log below is only a sample): the features the
      // model saw, so online-filled ones rather than the entity ids the caller sent.
      sketches.record(
        { name: model.name, version: model.version, runId: model.served.version.runId },
        { inputs: (online?.request ?? asked).inputs, outputs: body.outputs }
      );
      if (predictionLog.sampled()) {
        predictionLog.record({
          at: new Date(),
          requestId: body.id,
          model: model.name,
          version: model.version,
          tokenId: principal._id,
          inputs: asked.inputs,
          outputs: body.outputs,
          ...(rowIds ? { rowIds } : {}),
        });
      }
      return { ...json(200, body), model };
    } catch (err) {
      if (err instanceof ProtocolError) return { ...fail(err.status, err.message), model };
      throw err;
    } finally {
      model.release();
      mirrored?.release();
    }
  }

  async function route(req: http.IncomingMessage, path: string, requestId: string, started: bigint): Promise<Reply> {
    if (path === '/v2/health/live') return json(200, { live: true });
    if (path === '/v2/health/ready') return json(200, { ready: true });
    if (path === '/v2') return json(200, { name: SERVER_NAME, version: SERVER_VERSION, extensions: [] });
    if (path === '/metrics') {
      const principal = await authorize(req, 'read');
      if ('status' in principal) return principal;
      return {
        status: 200,
        body: await metrics.registry.metrics(),
        headers: { 'content-type': metrics.registry.contentType },
      };
    }
    const m = MODEL_ROUTE.exec(path);
    if (m) return modelRoute(req, m, requestId, started);
    return fail(404, `no route ${req.method} ${path.slice(0, 100)}; see GET /v2 and /v2/models/{name}`);
  }

  const handler: http.RequestListener = (req, res) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    const path = (req.url ?? '/').split('?')[0];
    const isInfer = req.method === 'POST' && path.endsWith('/infer');
    route(req, path, requestId, started)
      .catch((err): Reply => {
        if (err instanceof ProtocolError) return fail(err.status, err.message);
        log.error('inference request failed', { path, error: (err as Error).message });
        return fail(500, `internal error (request ${requestId}); the server log has the cause`);
      })
      .then((reply) => {
        const headers: Record<string, string> = { 'x-request-id': requestId, ...reply.headers };
        if (reply.model) headers[VERSION_HEADER] = String(reply.model.version);
        const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        headers['content-type'] ??= 'application/json';
        // An unread body (refused early) is not drained: close the connection instead.
        if (!req.complete) headers.connection = 'close';
        res.writeHead(reply.status, headers).end(text);
        if (isInfer) {
          // Only a model that answered names the series: guessed names must not add label values.
          metrics.requests.inc({
            model: reply.model?.name ?? '',
            version: reply.model ? String(reply.model.version) : '',
            outcome: outcomeOf(reply.status),
          });
          metrics.latency.observe({ model: reply.model?.name ?? '' }, Number(process.hrtime.bigint() - started) / 1e9);
        }
      })
      .catch((err: unknown) => {
        // Writing the answer failed (the client went away mid-write): never an unhandled rejection.
        log.warn('inference response not sent', { path, error: (err as Error).message });
        res.destroy();
      });
  };

  return {
    handler,
    models,
    metrics,
    predictionLog,
    stats,
    sketches,
    async close() {
      clearInterval(statsTimer);
      await models.stop();
      await stats.flush();
      await sketches.close();
      await predictionLog.close();
    },
  };
}
