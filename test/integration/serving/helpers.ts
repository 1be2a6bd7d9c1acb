// Shared setup of the inference server tests: a model version registered straight into the
// registry (trained here on penguins, exported as the pipeline exports, signed by the store's
// keyring: no pipeline run needed), tokens for every role, the real server as a child process,
// and a load generator for it.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Role } from '../../../lib/auth/roles';
import type { Config } from '../../../lib/config';
import { exportOnnx, train, type FeatureSpec, type Frame } from '../../../lib/ml';
import { PIPELINE_EXPORT } from '../../../lib/ml/export';
import { MEDIA, putArtifact } from '../../../lib/store/artifacts';
import { openStore, type Store } from '../../../lib/store/db';
import { moveAlias, registerModelVersion, type ModelVersionDoc } from '../../../lib/store/models';
import { createToken, upsertAdminToken } from '../../../lib/store/tokens';
import { freePort } from '../../../tools/stack/ports';
import { repoScript, type Child } from '../../../tools/stack/child';
import { configEnv, testConfig } from '../harness/env';
import { penguins, penguinsFeatures, slice, split } from '../../unit/ml/data';

export const ROOT = path.resolve(__dirname, '../../..');

export interface Penguins {
  train: Frame;
  test: Frame;
}

export function penguinsSplit(): Penguins {
  const frame = penguins();
  const s = split(frame.length, 0.25, 7);
  return { train: slice(frame, s.train), test: slice(frame, s.test) };
}

const NEXT_SPECIES: Record<string, string> = { Adelie: 'Chinstrap', Chinstrap: 'Gentoo', Gentoo: 'Adelie' };

/** The frame with every species renamed to the next one: a model trained on it predicts differently. */
export function permutedLabels(frame: Frame): Frame {
  const species = frame.columns.species as (string | null)[];
  return { ...frame, columns: { ...frame.columns, species: species.map((s) => (s === null ? s : NEXT_SPECIES[s])) } };
}

/**
 * Trains a small penguins classifier (seeded) and registers it as the next version of `name`;
 * `permuted` trains it on permuted labels (a real model whose predictions differ), `features` on other columns.
 */
export async function registerPenguins(
  store: Store,
  name: string,
  data: Penguins,
  opts: { seed?: number; promote?: boolean; hidden?: number[]; permuted?: boolean; features?: FeatureSpec[] } = {}
): Promise<{ version: ModelVersionDoc; onnx: Uint8Array }> {
  const runId = `run-${randomUUID().slice(0, 8)}`;
  const model = await train(opts.permuted ? permutedLabels(data.train) : data.train, {
    task: 'classification',
    target: 'species',
    features: opts.features ?? penguinsFeatures,
    model: { kind: opts.hidden ? 'mlp' : 'linear', hidden: opts.hidden },
    epochs: 30,
    batchSize: 32,
    learningRate: 0.05,
    l2: 0,
    patience: 0,
    validationFraction: 0,
    seed: opts.seed ?? 1,
  });
  const onnx = exportOnnx(model, { 'mlops.model_name': name, 'mlops.run_id': runId }, PIPELINE_EXPORT);
  const version = await registerOnnxVersion(store, name, onnx, {
    runId,
    features: opts.features ?? penguinsFeatures,
    target: 'species',
    rows: data.train.length,
    source: 'bundled:penguins',
    by: 'test',
    promote: opts.promote,
  });
  return { version, onnx };
}

/**
 * Registers exported ONNX bytes as the next version of `name`, with the lineage of a builtin
 * classifier trained on `rows` rows of `source`, and promotes it to production unless told not to.
 * The benches register their models with it too.
 */
export async function registerOnnxVersion(
  store: Store,
  name: string,
  onnx: Uint8Array,
  opts: {
    features: FeatureSpec[];
    target: string;
    rows: number;
    source: string;
    /** Who registers: the code version and the alias move's author. */
    by: string;
    runId?: string;
    promote?: boolean;
  }
): Promise<ModelVersionDoc> {
  const runId = opts.runId ?? `${opts.by}-${name}-${randomUUID().slice(0, 6)}`;
  const ref = await putArtifact(store, onnx, MEDIA.onnx, { kind: 'onnx', runId });
  const { version } = await registerModelVersion(store, {
    name,
    runId,
    metrics: {},
    artifacts: { onnx: ref, serving: ref },
    lineage: {
      datasetSha256: '0'.repeat(64),
      datasetSource: opts.source,
      datasetRows: opts.rows,
      spec: {},
      codeVersion: opts.by,
      parentRun: runId,
      trainer: { kind: 'builtin' },
      features: opts.features,
      target: opts.target,
      task: 'classification',
      artifacts: { onnx: ref.sha256, serving: ref.sha256 },
    },
  });
  if (opts.promote !== false)
    await moveAlias(store, { name, alias: 'production', version: version.version, by: opts.by });
  return version;
}

export function promote(store: Store, name: string, version: number) {
  return moveAlias(store, { name, alias: 'production', version, by: 'test' });
}

export type Tokens = Record<Role, string>;

export async function roleTokens(store: Store, cfg: Config): Promise<Tokens> {
  await upsertAdminToken(store.db, cfg.MLOPS_ADMIN_TOKEN!);
  const tokens = { admin: cfg.MLOPS_ADMIN_TOKEN! } as Tokens;
  for (const role of ['predictor', 'viewer', 'scientist', 'approver'] as const) {
    tokens[role] = (await createToken(store.db, { name: role, subject: `s-${role}`, role, createdBy: 'test' })).token;
  }
  return tokens;
}

export function servingConfig(overrides: Record<string, string> = {}): Config {
  return testConfig({ MLOPS_ADMIN_TOKEN: `admin-${randomUUID()}`, ...overrides });
}

export interface InferenceChild {
  url: string;
  child: Child;
  lines: string[];
}

/** The inference server (serving/main.ts) as a real child process, on a free port, ready. */
export async function spawnInference(cfg: Config, env: Record<string, string> = {}): Promise<InferenceChild> {
  const port = await freePort();
  const lines: string[] = [];
  const child = repoScript('inference', path.join(ROOT, 'serving/main.ts'), {
    env: {
      ...configEnv(cfg),
      MLOPS_INFERENCE_PORT: String(port),
      MLOPS_INFERENCE_POLL_MS: '200',
      MLOPS_LOG_LEVEL: 'info',
      ...env,
    },
    sink: (line) => {
      lines.push(line);
      if (process.env.TEST_VERBOSE) console.log(line);
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await child.waitUntil(
    async () => (await fetch(`${url}/v2/health/ready`).catch(() => null))?.ok === true,
    60_000,
    `GET ${url}/v2/health/ready`
  );
  return { url, child, lines };
}

export interface V2Input {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

/** A v2 request for rows [from, to) of a penguins frame: one [N, 1] tensor per feature. */
/** Rows `from`..`to` of the frame as a request; with `idColumn`, plus that input holding ids `r<row>`. */
export function penguinsRequest(frame: Frame, from = 0, to = frame.length, idColumn?: string): { inputs: V2Input[] } {
  const ids = idColumn
    ? [
        {
          name: idColumn,
          shape: [to - from],
          datatype: 'BYTES',
          data: Array.from({ length: to - from }, (_, i) => `r${from + i}`),
        },
      ]
    : [];
  return {
    inputs: [
      ...ids,
      ...penguinsFeatures.map((f) => {
        const col = frame.columns[f.name];
        const data: unknown[] = [];
        for (let i = from; i < to; i++) {
          const v = col[i];
          data.push(typeof v === 'number' ? (Number.isNaN(v) ? null : v) : v);
        }
        return { name: f.name, shape: [to - from, 1], datatype: f.type === 'numeric' ? 'FP32' : 'BYTES', data };
      }),
    ],
  };
}

export async function infer(
  url: string,
  model: string,
  token: string | null,
  body: unknown,
  route = `/v2/models/${model}/infer`
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url + route, {
    method: 'POST',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export async function get(url: string, route: string, token: string | null) {
  const res = await fetch(url + route, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // metrics text
  }
  return { status: res.status, headers: res.headers, body };
}

/** Sum of the samples of a metric (a name, or a name with labels) on the server's /metrics. */
export async function metric(url: string, token: string, name: string): Promise<number> {
  const text: string = (await get(url, '/metrics', token)).body;
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

export interface ServingEnv {
  cfg: Config;
  store: Store;
  tokens: Tokens;
  server: InferenceChild;
  close(): Promise<void>;
}

/**
 * A database of its own with tokens for every role, `prepare` run on it (register models), then
 * the inference server with `serverEnv` on top of the test config.
 */
export async function servingEnv(
  opts: {
    prepare?: (store: Store) => Promise<void>;
    serverEnv?: (cfg: Config) => Promise<Record<string, string>> | Record<string, string>;
  } = {}
): Promise<ServingEnv> {
  const cfg = servingConfig();
  const store = await openStore(cfg);
  const tokens = await roleTokens(store, cfg);
  await opts.prepare?.(store);
  const server = await spawnInference(cfg, await opts.serverEnv?.(cfg));
  return {
    cfg,
    store,
    tokens,
    server,
    async close() {
      await server.child.stop(5_000);
      await store.db.dropDatabase().catch(() => undefined);
      await store.close();
    },
  };
}

export interface ServingSuite extends ServingEnv {
  /** A model name of the test file's own. */
  model: string;
  data: Penguins;
}

/**
 * The serving environment of a whole test file: the model name and the penguins split at once,
 * the rest filled in by beforeAll (with `prepare` registering the file's models) and closed by
 * afterAll, so that a test file holds one object instead of a variable per part.
 */
export function servingSuite(
  opts: {
    prepare?: (store: Store, model: string, data: Penguins) => Promise<unknown>;
    serverEnv?: (cfg: Config) => Promise<Record<string, string>> | Record<string, string>;
    timeoutMs?: number;
  } = {}
): ServingSuite {
  const suite = { model: `penguins-${randomUUID().slice(0, 6)}`, data: penguinsSplit() } as ServingSuite;
  beforeAll(async () => {
    const env = await servingEnv({
      prepare: async (store) => void (await opts.prepare?.(store, suite.model, suite.data)),
      serverEnv: opts.serverEnv,
    });
    Object.assign(suite, env);
  }, opts.timeoutMs);
  afterAll(() => suite.close?.());
  return suite;
}

/**
 * A load generator: one-row requests of `frame` from ever new callers (a sticky split sends each
 * to its version), `concurrency` at a time, until stopped; counts the answers by "version:status".
 * `url` may be a function, read per request, to follow a server restarted on another port.
 */
export function loadGenerator(
  url: string | (() => string),
  model: string,
  token: string,
  frame: Frame,
  concurrency = 4
) {
  const target = typeof url === 'string' ? () => url : url;
  const seen: Record<string, number> = {};
  let stopped = false;
  let n = 0;
  const worker = async () => {
    while (!stopped) {
      const row = n++ % frame.length;
      const res = await fetch(`${target()}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'x-mlops-caller': `caller-${n}`,
        },
        body: JSON.stringify(penguinsRequest(frame, row, row + 1)),
      }).catch(() => null);
      if (!res) {
        await new Promise((r) => setTimeout(r, 50)); // the server is down: do not spin
        continue;
      }
      await res.arrayBuffer();
      const key = `${res.headers.get('x-model-version') ?? '?'}:${res.status}`;
      seen[key] = (seen[key] ?? 0) + 1;
    }
  };
  const running = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    seen,
    async stop() {
      stopped = true;
      await running;
    },
  };
}
