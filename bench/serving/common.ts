// What the serving benchmarks share: an embedded MongoDB-wire server (FerretDB on a free port)
// with a store on it, registering an exported model as a version, the inference server as a
// child process, and folding the rounds of one measurement into one result.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportOnnx, train, type FeatureSpec } from '../../lib/ml';
import { PIPELINE_EXPORT } from '../../lib/ml/export';
import { penguins, penguinsFeatures } from '../../test/unit/ml/data';
import { loadConfig, type Config } from '../../lib/config';
import { openStore, type Store } from '../../lib/store/db';
import { createToken } from '../../lib/store/tokens';
import { provisionTools } from '../../tools/provision';
import { repoScript } from '../../tools/stack/child';
import { freePort } from '../../tools/stack/ports';
import { startMongoServer } from '../../tools/stack/services';
import { registerOnnxVersion } from '../../test/integration/serving/helpers';
import type { LoadResult } from '../api/load';
import { table } from '../ml/common';

export const ROOT = path.resolve(__dirname, '../..');

/** Rounds of one measurement as one result: total rate, median p50/p90/p99 of the rounds. */
export function combine(rounds: LoadResult[]): LoadResult {
  const median = (k: 'p50' | 'p90' | 'p99' | 'mean') => {
    const v = rounds.map((r) => r[k]).sort((a, b) => a - b);
    return v[v.length >> 1];
  };
  const statuses: Record<string, number> = {};
  for (const r of rounds) for (const [s, n] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
  return {
    name: rounds[0].name,
    requests: rounds.reduce((a, r) => a + r.requests, 0),
    errors: rounds.reduce((a, r) => a + r.errors, 0),
    statuses,
    rps: Math.round(rounds.reduce((a, r) => a + r.rps, 0) / rounds.length),
    p50: median('p50'),
    p90: median('p90'),
    p99: median('p99'),
    max: Math.max(...rounds.map((r) => r.max)),
    mean: median('mean'),
  };
}

/** Answers that were not 200, and requests that got no answer. */
export function notOk(r: LoadResult): number {
  return Object.entries(r.statuses)
    .filter(([s]) => s !== '200')
    .reduce((a, [, n]) => a + n, r.errors);
}

/** Prints the results as JSON (with the machine they ran on) and a table, and writes bench/results/<file>. */
export function report(
  file: string,
  note: string,
  fields: Record<string, unknown>,
  rows: Record<string, string | number>[]
) {
  const out = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAverage: os.loadavg(), note },
    ...fields,
  };
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench/results', file), JSON.stringify(out, null, 2));
  console.log(JSON.stringify(out, null, 1));
  console.log(table(rows));
}

/** The penguins classifier the serving benchmarks run (MLP 16), exported as the pipeline exports it. */
export async function penguinsOnnx(seed: number): Promise<Uint8Array> {
  const model = await train(penguins(), {
    task: 'classification',
    target: 'species',
    features: penguinsFeatures,
    model: { kind: 'mlp', hidden: [16] },
    epochs: 20,
    batchSize: 32,
    learningRate: 0.02,
    l2: 0,
    patience: 0,
    validationFraction: 0,
    seed,
  });
  return exportOnnx(model, {}, PIPELINE_EXPORT);
}

export interface EmbeddedStore {
  cfg: Config;
  store: Store;
  close(): Promise<void>;
}

/** FerretDB on a free port in a temporary folder, and a store on database `db`. */
export async function embeddedStore(db: string, log: (s: string) => void): Promise<EmbeddedStore> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-serving-'));
  const bin = (await provisionTools(loadConfig(), log)).ferretdb;
  const mongoPort = await freePort();
  const mongo = await startMongoServer({
    bin,
    host: '127.0.0.1',
    port: mongoPort,
    dataDir: path.join(dir, 'ferretdb'),
  });
  const cfg = loadConfig({
    ...process.env,
    MONGODB_URI: `mongodb://127.0.0.1:${mongoPort}/`,
    MONGODB_DB: db,
    MLOPS_DATA_DIR: path.join(dir, 'data'),
  });
  const store = await openStore(cfg);
  return {
    cfg,
    store,
    async close() {
      await store.close();
      await mongo.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Registers an exported model as the next version of `name` (promoted to production unless told not to). */
export async function registerOnnx(
  store: Store,
  name: string,
  onnx: Uint8Array,
  features: FeatureSpec[],
  rows: number,
  promote = true
): Promise<number> {
  const version = await registerOnnxVersion(store, name, onnx, {
    features,
    target: 'y',
    rows,
    source: 'bench',
    by: 'bench',
    promote,
  });
  return version.version;
}

/** The inference server (serving/main.ts) as a child process on a free port, for the length of `fn`. */
export async function withServer<T>(
  cfg: Config,
  env: Record<string, string>,
  fn: (url: string) => Promise<T>
): Promise<T> {
  const port = await freePort();
  const child = repoScript('inference', path.join(ROOT, 'serving/main.ts'), {
    env: {
      ...process.env,
      MONGODB_URI: cfg.MONGODB_URI,
      MONGODB_DB: cfg.MONGODB_DB,
      MLOPS_DATA_DIR: cfg.dataDir,
      MLOPS_INFERENCE_PORT: String(port),
      MLOPS_PREDICTION_LOG_SAMPLE: '0',
      MLOPS_LOG_LEVEL: 'warn',
      ...env,
    },
    sink: () => undefined,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await child.waitUntil(async () => (await fetch(`${url}/v2/health/ready`)).ok, 60_000, 'inference ready');
    return await fn(url);
  } finally {
    await child.stop(5_000);
  }
}

/**
 * Runs a serving benchmark on an embedded store (database `db`): the store is closed after it
 * whatever happens, and a failure is printed and exits 1.
 */
export function onEmbeddedStore(
  db: string,
  bench: (s: EmbeddedStore, log: (s: string) => void) => Promise<void>
): void {
  const log = (s: string) => console.error(`[bench] ${s}`);
  void (async () => {
    const embedded = await embeddedStore(db, log);
    try {
      await bench(embedded, log);
    } finally {
      await embedded.close();
    }
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

/** A predictor token for the load generator (the inference routes take no other). */
export async function predictorToken(store: Store): Promise<string> {
  const created = await createToken(store.db, {
    name: 'bench',
    subject: 'bench',
    role: 'predictor',
    createdBy: 'bench',
  });
  return created.token;
}
