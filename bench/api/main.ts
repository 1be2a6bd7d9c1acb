// API latency benchmark (issue 5): with 100,000 runs and 1,000,000 run events stored in
// the embedded MongoDB-wire server (FerretDB v1, SQLite), p50/p99 latency of
//   GET /v1/runs?model=M     GET /v1/runs?status=S     GET /v1/runs/{id}/events
// under 20 concurrent clients, plus `explain` of each query (does it push down?).
//
//   npx tsx bench/api/main.ts [--runs 100000] [--events-per-run 10] [--concurrency 20]
//                             [--duration 15] [--data bench/results/api-ferretdb]
//
// The FerretDB data folder is kept (bench/results is git-ignored): a second run reuses
// the seeded data. Prints a table and writes bench/results/api-latency.json.
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient, type Db } from 'mongodb';
import { loadConfig } from '../../lib/config';
import { ensurePipelineIndexes } from '../../lib/store/pipeline';
import { runEvents } from '../../lib/store/events';
import { runs, RUN_STATUSES, type RunStatus } from '../../lib/store/runs';
import { rebuildRunIndex, RUN_EVENT_INDEX, runIndexExists, RUN_INDEX } from '../../lib/store/run-index';
import { isTerminalStatus } from '../../lib/workflow-safe/statuses';
import { createApp, prepareStore } from '../../api/app';
import { silentLogger } from '../../lib/telemetry/logger';
import { gatewayFromFactory } from '../../api/temporal';
import { provisionTools } from '../../tools/provision';
import { freePort } from '../../tools/stack/ports';
import { startMongoServer } from '../../tools/stack/services';
import { STAGES } from '../../workflows/messages';
import { runLoad, type LoadResult } from './load';

const ROOT = path.resolve(__dirname, '../..');
/** The steps a run records events for: every stage but `done`. */
const STEPS = STAGES.filter((s) => s !== 'done');
const MODELS = 50;

/** 5% running, 5% awaiting approval, the rest ended (mostly succeeded). */
function statusOf(i: number): RunStatus {
  const r = (i * 2654435761) % 100;
  if (r < 5) return 'running';
  if (r < 10) return 'awaiting_approval';
  if (r < 70) return 'succeeded';
  return (['failed', 'failed_gate', 'rejected', 'expired', 'cancelled'] as const)[r % 5];
}

function runId(i: number): string {
  return `run-bench-${String(i).padStart(7, '0')}`;
}

async function seed(
  db: Db,
  nRuns: number,
  perRun: number,
  log: (s: string) => void,
  afterCreate: () => Promise<void>
): Promise<void> {
  const have = await runs(db).estimatedDocumentCount();
  const haveEvents = await runEvents(db).estimatedDocumentCount();
  if (have >= nRuns && haveEvents >= nRuns * perRun && (await runIndexExists(db))) {
    log(`seed: reusing ${have} runs and ${haveEvents} events`);
    return;
  }
  await db.dropDatabase();
  await ensurePipelineIndexes(db);
  await afterCreate();
  const base = Date.UTC(2026, 0, 1);
  const t0 = Date.now();
  const batch = 5_000;
  for (let start = 0; start < nRuns; start += batch) {
    const docs = [];
    for (let i = start; i < Math.min(nRuns, start + batch); i++) {
      const createdAt = new Date(base + i * 60_000);
      docs.push({
        _id: runId(i),
        runId: runId(i),
        model: `model-${i % MODELS}`,
        spec: { model: `model-${i % MODELS}`, dataset: { name: 'penguins' }, target: 'species' },
        status: statusOf(i),
        stage: isTerminalStatus(statusOf(i)) ? 'done' : statusOf(i) === 'running' ? 'train' : 'approval',
        createdAt,
        updatedAt: createdAt,
        createdBy: 'bench',
      });
    }
    await runs(db).insertMany(docs as never[], { ordered: false });
  }
  log(`seed: ${nRuns} runs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = Date.now();
  for (let start = 0; start < nRuns; start += Math.floor(batch / perRun)) {
    const docs = [];
    const indexDocs = [];
    for (let i = start; i < Math.min(nRuns, start + Math.floor(batch / perRun)); i++) {
      const events: Record<string, unknown> = {};
      indexDocs.push({ _id: runId(i), events });
      for (let k = 0; k < perRun; k++) {
        const step = STEPS[k % STEPS.length];
        const attempt = Math.floor(k / STEPS.length) + 1;
        const startedAt = new Date(base + i * 60_000 + k * 1000);
        docs.push({
          _id: `${runId(i)}:${step}:${attempt}`,
          runId: runId(i),
          step,
          attempt,
          status: 'completed',
          queue: 'cpu',
          startedAt,
          endedAt: new Date(startedAt.getTime() + 900),
          durationMs: 900,
        });
        const { _id, ...e } = docs[docs.length - 1];
        void _id;
        events[`${step}:${attempt}`] = e;
      }
    }
    await runEvents(db).insertMany(docs as never[], { ordered: false });
    // The per-run event index a writer hook (indexEvent) maintains; see lib/store/run-index.ts.
    await db.collection(RUN_EVENT_INDEX).insertMany(indexDocs as never[], { ordered: false });
    if ((start / Math.floor(batch / perRun)) % 40 === 0) log(`seed: events for ${start} runs`);
  }
  log(`seed: ${nRuns * perRun} events in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  const t2 = Date.now();
  await rebuildRunIndex(db, (n) => n % 20_000 === 0 && log(`seed: run index ${n}`));
  log(`seed: run index built in ${((Date.now() - t2) / 1000).toFixed(1)} s`);
}

async function explainAll(db: Db): Promise<Record<string, unknown>> {
  const show = async (cursor: { explain(): Promise<unknown> }) => {
    const e = (await cursor.explain()) as Record<string, unknown>;
    return {
      filterPushdown: e.filterPushdown,
      sortPushdown: e.sortPushdown,
      limitPushdown: e.limitPushdown,
      plan: (e.queryPlanner as { Plan?: unknown })?.Plan,
    };
  };
  return {
    'runs by model': await show(
      runs(db)
        .find({ $and: [{ model: 'model-7' }] })
        .sort({ createdAt: -1, _id: -1 })
        .limit(21)
    ),
    'runs by status': await show(
      runs(db)
        .find({ $and: [{ status: 'failed' }] })
        .sort({ createdAt: -1, _id: -1 })
        .limit(21)
    ),
    'events of a run': await show(
      runEvents(db)
        .find({ runId: runId(1234) })
        .sort({ startedAt: 1, _id: 1 })
        .limit(201)
    ),
    'run by _id': await show(runs(db).find({ _id: runId(1234) })),
    'run index bucket by _id': await show(db.collection(RUN_INDEX).find({ _id: 'model:model-7' as never })),
    'event index by _id': await show(db.collection(RUN_EVENT_INDEX).find({ _id: runId(1234) as never })),
  };
}

/**
 * FerretDB v1.24 (SQLite) looks documents up by `_ferretdb_sjson->'$._id'` but indexes
 * `_ferretdb_sjson->"_id"`, so SQLite scans the table even for an `_id` filter. This adds an
 * index on the expression the queries use (what the launcher should do; see docs/api.md).
 */
function sqliteIdIndex(file: string): string {
  const py = [
    'import sqlite3,sys',
    'c=sqlite3.connect(sys.argv[1], timeout=30)',
    "ts=[r[0] for r in c.execute(\"select name from sqlite_master where type='table' and name not like '_ferretdb_%'\")]",
    '[c.execute(\'CREATE INDEX IF NOT EXISTS "%s__id_path" ON "%s" (_ferretdb_sjson->\\\'$._id\\\')\' % (t,t)) for t in ts]',
    'c.commit()',
    "print(len(ts), 'tables')",
  ].join('\n');
  return execFileSync('python3', ['-c', py, file], { encoding: 'utf8' }).trim();
}

const SCENARIO_PATHS: ((i: number, nRuns: number) => string)[] = [
  (i) => `/v1/runs?model=model-${i % MODELS}&limit=20`,
  (i) => `/v1/runs?status=${RUN_STATUSES[i % RUN_STATUSES.length]}&limit=20`,
  (i, nRuns) => `/v1/runs/${runId((i * 7919) % nRuns)}/events`,
];

interface ChildJob {
  scenario: number;
  name: string;
  baseUrl: string;
  token: string;
  concurrency: number;
  durationMs: number;
  nRuns: number;
}

/** The load generator runs in its own process, so client work does not share the API's event loop. */
function loadInChild(job: ChildJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1], [], { env: { ...process.env, BENCH_LOAD_JOB: JSON.stringify(job) } });
    child.once('message', (m) => resolve(m as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => code && reject(new Error(`load process exited ${code}`)));
  });
}

async function childMain(job: ChildJob): Promise<void> {
  const path = SCENARIO_PATHS[job.scenario];
  const result = await runLoad({ ...job, path: (i) => path(i, job.nRuns) });
  process.send?.(result, () => process.exit(0));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '100000' },
      'events-per-run': { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '20' },
      duration: { type: 'string', default: '15' },
      data: { type: 'string', default: path.join(ROOT, 'bench/results/api-ferretdb') },
      'mongodb-uri': { type: 'string' },
      'ferretdb-bin': { type: 'string' },
      'sqlite-id-index': { type: 'boolean', default: false },
    },
  });
  const nRuns = Number(values.runs);
  const perRun = Number(values['events-per-run']);
  const concurrency = Number(values.concurrency);
  const durationMs = Number(values.duration) * 1000;
  const log = (s: string) => console.error(`[bench] ${s}`);

  const cfg = loadConfig({
    ...process.env,
    MONGODB_DB: 'bench_api',
    MLOPS_ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef',
  });
  let mongo: { stop(ms?: number): Promise<unknown> } | undefined;
  let uri = values['mongodb-uri'];
  if (!uri) {
    const bin = values['ferretdb-bin'] ?? (await provisionTools(cfg, log)).ferretdb;
    const port = await freePort();
    mkdirSync(values.data!, { recursive: true });
    mongo = await startMongoServer({ bin, host: '127.0.0.1', port, dataDir: values.data! });
    uri = `mongodb://127.0.0.1:${port}/`;
  }
  const client = new MongoClient(uri, { maxPoolSize: 50 });
  try {
    await client.connect();
    const db = client.db('bench_api');
    const idIndex = values['sqlite-id-index']
      ? async () => {
          // Collections must exist (FerretDB creates tables lazily) before their tables get the index.
          const existing = new Set((await db.listCollections().toArray()).map((c) => c.name));
          for (const name of [
            'runs',
            'run_events',
            RUN_INDEX,
            RUN_EVENT_INDEX,
            'api_tokens',
            'audit',
            'idempotency_keys',
          ]) {
            if (!existing.has(name)) await db.createCollection(name);
          }
          log(`sqlite _id index: ${sqliteIdIndex(path.join(values.data!, 'bench_api.sqlite'))}`);
        }
      : async () => undefined;
    await seed(db, nRuns, perRun, log, idIndex);
    await idIndex();
    const store = { client, db, close: () => client.close() };
    await prepareStore(store, cfg.MLOPS_ADMIN_TOKEN);
    const explain = await explainAll(db);
    const app = createApp({
      cfg: { ...cfg, MONGODB_URI: uri },
      store,
      temporal: gatewayFromFactory(() => Promise.reject(new Error('not used by the benchmarked routes'))),
      log: silentLogger,
    });
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const token = cfg.MLOPS_ADMIN_TOKEN as string;
    const scenarios: { name: string; path: (i: number) => string }[] = [
      { name: 'GET /v1/runs?model=M', path: (i) => `/v1/runs?model=model-${i % MODELS}&limit=20` },
      {
        name: 'GET /v1/runs?status=S',
        path: (i) => `/v1/runs?status=${RUN_STATUSES[i % RUN_STATUSES.length]}&limit=20`,
      },
      { name: 'GET /v1/runs/{id}/events', path: (i) => `/v1/runs/${runId((i * 7919) % nRuns)}/events` },
    ];
    const results: LoadResult[] = [];
    for (const [i, s] of scenarios.entries()) {
      log(`load: ${s.name}, ${concurrency} clients, ${durationMs / 1000} s`);
      results.push(await loadInChild({ scenario: i, name: s.name, baseUrl, token, concurrency, durationMs, nRuns }));
    }
    await new Promise((r) => server.close(r));
    const report = {
      when: new Date().toISOString(),
      stored: { runs: nRuns, events: nRuns * perRun },
      concurrency,
      durationSeconds: durationMs / 1000,
      server: 'FerretDB v1.24 (SQLite) via tools/ferretdb',
      results,
      explain,
    };
    mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'bench/results/api-latency.json'), JSON.stringify(report, null, 2));
    console.log(JSON.stringify(report));
    console.log('');
    console.log('scenario                       requests   rps      p50 ms   p99 ms   max ms   non-200');
    for (const r of results) {
      const bad = r.requests - (r.statuses['200'] ?? 0);
      console.log(
        `${r.name.padEnd(30)} ${String(r.requests).padStart(8)} ${String(r.rps).padStart(8)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(8)} ${String(r.max).padStart(8)} ${String(bad).padStart(9)}`
      );
    }
  } finally {
    await client.close();
    await mongo?.stop(5_000);
  }
}

const job = process.env.BENCH_LOAD_JOB;
(job ? childMain(JSON.parse(job) as ChildJob) : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
