// API throughput with MLOPS_API_WORKERS = 1 against 2 (the real api/server.ts entry on the embedded
// servers), side by side: rounds alternate the two, each a closed-loop load on run reads.
//   npx tsx bench/api/workers.ts [--runs 2000] [--concurrency 20] [--duration 10] [--rounds 2] [--workers 2]
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRun } from '../../lib/store/runs';
import { openStore } from '../../lib/store/db';
import { repoScript } from '../../tools/stack/child';
import { freePort } from '../../tools/stack/ports';
import { arg, startBenchStack } from '../stack';
import { runLoad, type LoadResult } from './load';

async function main(): Promise<void> {
  const runs = arg('runs', 2000);
  const concurrency = arg('concurrency', 20);
  const durationMs = arg('duration', 10) * 1000;
  const rounds = arg('rounds', 2);
  const many = arg('workers', 2);
  const stack = await startBenchStack('bench-api-workers');
  const cfg = stack.config();
  const store = await openStore(cfg);
  const models = ['penguins', 'auto-mpg', 'churn', 'fraud'];
  for (let i = 0; i < runs; i++) {
    const model = models[i % models.length];
    await createRun(store, {
      runId: `run-${i}`,
      model,
      spec: { model },
      at: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
    });
  }
  await store.close();

  const env = Object.fromEntries(
    Object.entries({
      TEMPORAL_ADDRESS: cfg.TEMPORAL_ADDRESS,
      MONGODB_URI: cfg.MONGODB_URI,
      MONGODB_DB: cfg.MONGODB_DB,
      MLOPS_DATA_DIR: cfg.dataDir,
      MLOPS_CONTROL_QUEUE: cfg.queues.control,
      MLOPS_LOG_LEVEL: 'info',
    })
  );
  const scenarios = [
    { name: 'GET /v1/runs?model=', path: (i: number) => `/v1/runs?model=${models[i % models.length]}&limit=20` },
    { name: 'GET /v1/runs/{id}', path: (i: number) => `/v1/runs/run-${(i * 7919) % runs}` },
  ];
  const results: (LoadResult & { workers: number; round: number })[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const workers of round % 2 ? [many, 1] : [1, many]) {
        const port = await freePort();
        const lines: string[] = [];
        const api = repoScript('api', 'api/server.ts', {
          env: { ...env, MLOPS_API_PORT: String(port), MLOPS_API_WORKERS: String(workers) },
          sink: (line) => lines.push(line),
        });
        try {
          await api.waitUntil(
            async () => lines.filter((l) => l.includes('api listening')).length === workers,
            60_000,
            `${workers} API workers listening`
          );
          const token = readFileSync(path.join(cfg.dataDir, 'admin-token'), 'utf8').trim();
          const baseUrl = `http://127.0.0.1:${port}`;
          for (const s of scenarios) {
            await runLoad({ ...s, baseUrl, token, concurrency, durationMs: 2_000 }); // warm-up
            results.push({ ...(await runLoad({ ...s, baseUrl, token, concurrency, durationMs })), workers, round });
          }
        } finally {
          await api.stop(10_000);
        }
      }
    }
  } finally {
    await stack.close();
  }

  const best = (name: string, workers: number) =>
    results.filter((r) => r.name === name && r.workers === workers).sort((a, b) => b.rps - a.rps)[0];
  const rows = scenarios.map((s) => {
    const one = best(s.name, 1);
    const n = best(s.name, many);
    return {
      scenario: s.name,
      rps1: Math.round(one.rps),
      rpsN: Math.round(n.rps),
      ratio: Number((n.rps / one.rps).toFixed(2)),
      p99_1: Number(one.p99.toFixed(1)),
      p99_N: Number(n.p99.toFixed(1)),
    };
  });
  const out = {
    runs,
    concurrency,
    durationMs,
    rounds,
    workers: many,
    cores: os.cpus().length,
    load: os.loadavg(),
    rows,
    results,
  };
  console.log(JSON.stringify(out, null, 2));
  writeFileSync(path.resolve(__dirname, '../results/api-workers.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(
    `\n${concurrency} clients, ${durationMs / 1000} s per scenario, best of ${rounds} rounds, ${os.cpus().length} cores:`
  );
  console.log(`scenario              req/s (1)  req/s (${many})  ratio  p99 ms (1)  p99 ms (${many})`);
  for (const r of rows) {
    console.log(
      `${r.scenario.padEnd(21)} ${String(r.rps1).padStart(9)}  ${String(r.rpsN).padStart(9)}  ${r.ratio.toFixed(2).padStart(5)}  ${String(r.p99_1).padStart(10)}  ${String(r.p99_N).padStart(10)}`
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
