// The embedded stack: Temporal dev server (with Web UI), MongoDB-wire server, the control,
// GPU and CPU workers, the API and the inference server, started in that order, each checked ready before the
// next. Policy on a child that dies: the stack names it and stops everything with exit 1
// (a supervisor such as systemd or compose restarts the stack; silent restarts would hide
// crash loops).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ensureAdminToken } from '../../lib/auth/admin-token';
import type { Config } from '../../lib/config';
import { loadKeyring } from '../../lib/crypto/keyring';
import type { Tools } from '../provision';
import { Child, repoScript } from './child';
import { assertPortFree, splitHostPort } from './ports';
import { startMongoServer, startTemporalServer } from './services';

/** Worker /metrics ports are assigned from here unless MLOPS_WORKER_METRICS_PORT says otherwise: two per worker (ours, then the SDK's). */
export const WORKER_METRICS_BASE_PORT = 9470;

export interface StackUrls {
  api: string;
  inference: string;
  temporalUi: string;
  apiMetrics: string;
  workerMetrics: string[];
  adminTokenPath?: string;
}

export interface Stack {
  urls: StackUrls;
  /** Resolves with the child that died unexpectedly. */
  died: Promise<Child>;
  stop(): Promise<void>;
}

function mongoHostPort(uri: string): { host: string; port: number } {
  const url = new URL(uri.replace(/^mongodb(\+srv)?:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 27017) };
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return res.ok;
}

export async function startStack(cfg: Config, tools: Tools, log: (line: string) => void): Promise<Stack> {
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
  const children: Child[] = [];
  let stopping = false;
  let reportDeath: (child: Child) => void = () => undefined;
  const died = new Promise<Child>((resolve) => (reportDeath = resolve));
  const track = (child: Child) => {
    children.push(child);
    void child.exited.then(() => !stopping && !child.stopping && reportDeath(child));
    return child;
  };
  const stop = async () => {
    stopping = true;
    for (const child of [...children].reverse()) await child.stop();
  };

  try {
    const apiUrl = `http://${cfg.MLOPS_API_HOST}:${cfg.MLOPS_API_PORT}`;
    log(
      `starting Temporal dev server on ${cfg.TEMPORAL_ADDRESS} (state: ${path.join(cfg.dataDir, 'temporal.sqlite')})`
    );
    track(
      await startTemporalServer({
        bin: tools.temporal,
        host: temporal.host,
        port: temporal.port,
        namespace: cfg.TEMPORAL_NAMESPACE,
        dbFile: path.join(cfg.dataDir, 'temporal.sqlite'),
        uiPort: cfg.TEMPORAL_UI_PORT,
        // The UI decodes encrypted payloads through the API (api/routes/codec.ts), for token holders.
        uiCodecEndpoint: `${apiUrl}/codec`,
      })
    );
    log(`starting MongoDB-wire server (FerretDB) on ${mongo.host}:${mongo.port}`);
    track(
      await startMongoServer({
        bin: tools.ferretdb,
        host: mongo.host,
        port: mongo.port,
        dataDir: path.join(cfg.dataDir, 'ferretdb'),
      })
    );

    const admin = await ensureAdminToken(cfg);
    // Generated before the children start, so that they all read the same key.
    const { generatedAt } = await loadKeyring({
      configured: cfg.MLOPS_ENCRYPTION_KEYS,
      dataDir: cfg.dataDir,
      production: cfg.MLOPS_ENV === 'production',
    });
    if (generatedAt)
      log(`no MLOPS_ENCRYPTION_KEYS set: generated a payload encryption key into ${generatedAt} (mode 0600)`);
    const node = (name: string, script: string, env: Record<string, string> = {}) =>
      track(repoScript(name, script, { env }));

    const counters: Record<string, number> = {};
    await Promise.all(
      workerKinds.map((kind, i) => {
        counters[kind] = (counters[kind] ?? 0) + 1;
        const name = kind === 'control' ? 'control-worker' : `${kind}-worker-${counters[kind]}`;
        log(`starting ${name}`);
        const child = node(name, `workers/${kind}.ts`, { MLOPS_WORKER_METRICS_PORT: String(metricsPorts[i]) });
        return child.waitForLine(/ INFO \S+-worker: ready/, 120_000);
      })
    );
    log('starting API');
    const api = node('api', 'api/server.ts');
    await api.waitUntil(() => httpOk(`${apiUrl}/healthz`), 60_000, `GET ${apiUrl}/healthz`);
    log('starting inference server');
    const inferenceUrl = `http://${cfg.MLOPS_INFERENCE_HOST}:${cfg.MLOPS_INFERENCE_PORT}`;
    const inference = node('inference', 'serving/main.ts');
    await inference.waitUntil(
      () => httpOk(`${inferenceUrl}/v2/health/ready`),
      60_000,
      `GET ${inferenceUrl}/v2/health/ready`
    );

    return {
      urls: {
        api: apiUrl,
        inference: inferenceUrl,
        temporalUi: `http://${temporal.host}:${cfg.TEMPORAL_UI_PORT}`,
        apiMetrics: `${apiUrl}/metrics`,
        workerMetrics: metricsPorts.map((p) => `http://127.0.0.1:${p}/metrics`),
        adminTokenPath: admin.path,
      },
      died,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
