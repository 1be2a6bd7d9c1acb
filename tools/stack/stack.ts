// The embedded stack: Temporal dev server (with Web UI), MongoDB-wire server, then the
// control, GPU and CPU workers, the API and the inference server side by side, each checked ready; the
// Supervisor (supervisor.ts) restarts any that dies. A new child is one more ServiceDef
// in `apps` below (repoService for a TypeScript entry of this repository).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ensureAdminToken } from '../../lib/auth/admin-token';
import type { Config } from '../../lib/config';
import { loadKeyring } from '../../lib/crypto/keyring';
import type { Tools } from '../provision';
import { repoScript } from './child';
import { assertPortFree, freePort, splitHostPort } from './ports';
import { mongoService, temporalService } from './services';
import type { ServiceDef, Supervisor } from './supervisor';
import { startUiFront, type UiFront } from './ui-front';

/** Worker /metrics ports are assigned from here unless MLOPS_WORKER_METRICS_PORT says otherwise: two per worker (ours, then the SDK's). */
export const WORKER_METRICS_BASE_PORT = 9470;

export interface StackUrls {
  api: string;
  /** The inference server (Open Inference Protocol v2), serving the CPU fleet's online role. */
  inference: string;
  temporalUi: string;
  /** Where a person signs in (a session cookie) so that Temporal UI shows decoded payloads. */
  signIn: string;
  apiMetrics: string;
  workerMetrics: string[];
  adminTokenPath?: string;
}

function mongoHostPort(uri: string): { host: string; port: number } {
  const url = new URL(uri.replace(/^mongodb(\+srv)?:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 27017) };
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return res.ok;
}

/** A TypeScript entry of this repository as a service, ready once `ready` says so. */
function repoService(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: ServiceDef['ready']
): ServiceDef {
  return { name, spawn: () => repoScript(name, script, { env }), ready };
}

/** Starts every child under `supervisor` (which also stops them) and the UI front; resolves once all are ready. */
export async function startStack(
  cfg: Config,
  tools: Tools,
  log: (line: string) => void,
  supervisor: Supervisor
): Promise<{ urls: StackUrls; front: UiFront }> {
  const temporal = splitHostPort(cfg.TEMPORAL_ADDRESS);
  const mongo = mongoHostPort(cfg.MONGODB_URI);
  const workerKinds = [
    'control',
    ...Array(cfg.MLOPS_GPU_WORKERS).fill('gpu'),
    ...Array(cfg.MLOPS_CPU_WORKERS).fill('cpu'),
  ] as const;
  const metricsBase = cfg.MLOPS_WORKER_METRICS_PORT || WORKER_METRICS_BASE_PORT;
  const metricsPorts = workerKinds.map((_, i) => metricsBase + 2 * i);

  await assertPortFree(temporal.host, temporal.port, 'TEMPORAL_ADDRESS');
  await assertPortFree(temporal.host, cfg.TEMPORAL_UI_PORT, 'TEMPORAL_UI_PORT');
  await assertPortFree(mongo.host, mongo.port, 'MONGODB_URI');
  await assertPortFree(cfg.MLOPS_API_HOST, cfg.MLOPS_API_PORT, 'MLOPS_API_PORT');
  await assertPortFree(cfg.MLOPS_INFERENCE_HOST, cfg.MLOPS_INFERENCE_PORT, 'MLOPS_INFERENCE_PORT');
  for (const port of metricsPorts.flatMap((p) => [p, p + 1])) {
    await assertPortFree('127.0.0.1', port, `MLOPS_WORKER_METRICS_PORT (worker metrics ports from ${metricsBase})`);
  }

  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const apiUrl = `http://${cfg.MLOPS_API_HOST}:${cfg.MLOPS_API_PORT}`;
  const inferenceUrl = `http://${cfg.MLOPS_INFERENCE_HOST}:${cfg.MLOPS_INFERENCE_PORT}`;
  const uiUrl = `http://${temporal.host}:${cfg.TEMPORAL_UI_PORT}`;
  // The Temporal UI itself listens on an internal port behind the front (ui-front.ts).
  const internalUiPort = await freePort(temporal.host);
  log(`starting Temporal dev server on ${cfg.TEMPORAL_ADDRESS} (state: ${path.join(cfg.dataDir, 'temporal.sqlite')})`);
  log(`starting MongoDB-wire server (FerretDB) on ${mongo.host}:${mongo.port}`);
  await supervisor.startAll([
    temporalService({
      bin: tools.temporal,
      host: temporal.host,
      port: temporal.port,
      namespace: cfg.TEMPORAL_NAMESPACE,
      dbFile: path.join(cfg.dataDir, 'temporal.sqlite'),
      uiPort: internalUiPort,
      // The UI decodes encrypted payloads through the API (api/routes/codec.ts), for signed-in readers.
      uiCodecEndpoint: `${uiUrl}/codec`,
      // Its banner names the internal UI port; the stack prints the front's URL instead.
      sink: (line) => /Temporal UI:/.test(line) || console.log(line),
    }),
    mongoService({
      bin: tools.ferretdb,
      host: mongo.host,
      port: mongo.port,
      dataDir: path.join(cfg.dataDir, 'ferretdb'),
    }),
  ]);
  const front = await startUiFront({
    host: temporal.host,
    port: cfg.TEMPORAL_UI_PORT,
    temporalUi: `http://${temporal.host}:${internalUiPort}`,
    api: apiUrl,
  });

  const admin = await ensureAdminToken(cfg);
  // Generated before the children start, so that they all read the same key.
  const { generatedAt } = await loadKeyring({
    configured: cfg.MLOPS_ENCRYPTION_KEYS,
    dataDir: cfg.dataDir,
    production: cfg.MLOPS_ENV === 'production',
  });
  if (generatedAt)
    log(`no MLOPS_ENCRYPTION_KEYS set: generated a payload encryption key into ${generatedAt} (mode 0600)`);

  const counters: Record<string, number> = {};
  const workers = workerKinds.map((kind, i): ServiceDef => {
    counters[kind] = (counters[kind] ?? 0) + 1;
    const name = kind === 'control' ? 'control-worker' : `${kind}-worker-${counters[kind]}`;
    return repoService(name, `workers/${kind}.ts`, { MLOPS_WORKER_METRICS_PORT: String(metricsPorts[i]) }, (child) =>
      child.waitForLine(/"name":"[a-z]+-worker".*"msg":"ready"/, 120_000)
    );
  });
  const apps: ServiceDef[] = [
    ...workers,
    repoService('api', 'api/server.ts', {}, (child) =>
      child.waitUntil(() => httpOk(`${apiUrl}/healthz`), 60_000, `GET ${apiUrl}/healthz`)
    ),
    repoService('inference', 'serving/main.ts', {}, (child) =>
      child.waitUntil(() => httpOk(`${inferenceUrl}/v2/health/ready`), 60_000, `GET ${inferenceUrl}/v2/health/ready`)
    ),
  ];
  await supervisor.startAll(apps);

  return {
    urls: {
      api: apiUrl,
      inference: inferenceUrl,
      temporalUi: uiUrl,
      signIn: `${apiUrl}/v1/session`,
      apiMetrics: `${apiUrl}/metrics`,
      workerMetrics: metricsPorts.map((p) => `http://127.0.0.1:${p}/metrics`),
      adminTokenPath: admin.path,
    },
    front,
  };
}
