// Chaos figures for the whole platform: `npm run bench:chaos -- [--runs 20] [--temporal-runs 5] [--api-runs 10]`.
// Starts the embedded stack through `npm start` (2 GPU workers, 1 CPU worker, the control
// worker; free ports, a fresh data dir), then (1) SIGKILLs a random worker at a random moment
// of each of `runs` runs (single-process, data-parallel and search runs in turn), and (2)
// SIGKILLs the Temporal dev server while `temporal-runs` runs are in flight, and (3) SIGKILLs the
// API while `api-runs` submissions are in flight (retried with their Idempotency-Key). Every run is
// checked for exactly-once effects (bench/chaos/scenarios.ts). Prints JSON (also written to
// bench/results/chaos.json) and a table; stops the stack with Ctrl-C to its process group.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../lib/config';
import { provisionTools } from '../../tools/provision';
import { descendants, npmStart, signalGroup, stackEnv, survivors } from '../../tools/stack/observe';
import { arg } from '../stack';
import { apiKill, type ScenarioResult, type StackHandle, temporalKill, workerKills } from './scenarios';

function table(results: ScenarioResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.scenario} | ${r.runs} | ${r.succeeded} | ${r.lost} | ${Object.entries(r.kills)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')} | ${r.retriedActivities} | ${r.duplicatedSteps} | ${r.extraModelVersions} | ${r.wallSeconds} |`
  );
  return [
    '| scenario | runs | succeeded | lost | SIGKILLs | activities retried | duplicated steps | extra model versions | wall s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const runs = arg('runs', 20);
  const temporalRuns = arg('temporal-runs', 5);
  const apiRuns = arg('api-runs', 10);
  const tools = await provisionTools(loadConfig(), () => undefined);
  const env = await stackEnv({ MLOPS_GPU_WORKERS: '2', MLOPS_CPU_WORKERS: '1' });
  const stack = npmStart(env);
  const h: StackHandle = { stack, env, temporalBin: tools.temporal };
  const results: ScenarioResult[] = [];
  let leftovers: string[] = [];
  let apiResult: Awaited<ReturnType<typeof apiKill>> | undefined;
  try {
    await stack.waitForLine(/\[stack\] ready in/, 300_000);
    const kinds = ['single', 'data-parallel', 'search'] as const;
    results.push(
      await workerKills(h, { runs, kinds: [...kinds], maxDelayMs: 8_000, spacingMs: 15_000, runTimeoutMs: 900_000 })
    );
    results.push(
      await temporalKill(h, { runs: temporalRuns, kinds: [...kinds], maxDelayMs: 5_000, runTimeoutMs: 900_000 })
    );
    apiResult = await apiKill(h, { runs: apiRuns, kinds: ['single'], maxDelayMs: 300, runTimeoutMs: 900_000 });
    results.push(apiResult);
  } finally {
    const tree = descendants(stack.proc.pid!).map((p) => p.pid);
    signalGroup(stack, 'SIGINT');
    await stack.exited;
    leftovers = await survivors(tree);
  }
  const out = { when: new Date().toISOString(), runs, temporalRuns, apiRuns, results, leftoverProcesses: leftovers };
  const file = path.resolve(__dirname, '../results/chaos.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify({ ...out, results: results.map(({ checks: _, ...r }) => r) }, null, 2));
  console.log(`\n${table(results)}\n`);
  if (apiResult)
    console.log(
      `API kill: first answers ${JSON.stringify(apiResult.answers)}; retries giving another run than a first 202: ${apiResult.replayMismatches}; models with other than one run: ${apiResult.halfWritten}`
    );
  console.log(`processes left after Ctrl-C: ${leftovers.length}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
