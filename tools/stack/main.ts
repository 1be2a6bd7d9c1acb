// `npm start`: provisions the tools if needed, starts the embedded stack under a supervisor
// that restarts a child that dies (MLOPS_STACK_RESTART), prints where everything is, then
// runs the demo pipeline (tools/stack/demo.ts). Ctrl-C or SIGTERM stops every child; a second
// Ctrl-C, a second or more later, kills them at once. It exits only once every child is gone.
// MLOPS_DEMO=0 skips the demo. `npm start` runs it with `node --import tsx`, not the tsx CLI:
// that CLI SIGKILLs its child when it acknowledges a relayed signal late, which would orphan
// every child of the stack.
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../lib/config';
import { serveMetrics } from '../../lib/telemetry/metrics-server';
import { provisionTools } from '../provision';
import { runDemo } from './demo';
import { createStackMetrics } from './metrics';
import { assertPortFree } from './ports';
import { handleStopSignals } from './signals';
import { startStack } from './stack';
import { Supervisor } from './supervisor';

const log = (line: string) => console.log(`[stack] ${line}`);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

const HELP = `Usage: npm start [-- --help]

Starts the embedded stack: Temporal dev server with its Web UI, a MongoDB-wire server
(FerretDB), the control, GPU and CPU workers and the API, then runs a demo pipeline
(MLOPS_DEMO=0 skips it). Settings come from the environment (README, "Configuration").

Supervision (MLOPS_STACK_RESTART, default always): a child that dies is restarted after
1 s, doubling up to 30 s, and logged; its restarts are counted on
http://127.0.0.1:$MLOPS_STACK_METRICS_PORT/metrics. A child restarted 5 times within 60 s
is in a crash loop: the stack stops with status 1 and shows its last log lines. The
default keeps the platform up when one worker dies, as the runs it carried are retried on
the others. Set MLOPS_STACK_RESTART=never under systemd or compose: the first death then
stops the stack with status 1, for that supervisor to act on.

Ctrl-C (or SIGTERM) stops every child gracefully; Ctrl-C again, a second or more later,
kills them at once. The launcher exits only once every child is gone.`;

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const started = Date.now();
  const cfg = loadConfig();
  const metrics = createStackMetrics();
  const supervisor = new Supervisor({ policy: cfg.MLOPS_STACK_RESTART, log, metrics });
  const demoStop = new AbortController();
  // Installed before any child exists, so that no signal leaves one behind.
  const signals = handleStopSignals({
    log,
    stop: () => (demoStop.abort(), supervisor.stop()),
    kill: () => supervisor.kill(),
  });

  const starting = (async () => {
    const tools = await provisionTools(cfg, (line) => log(line));
    await assertPortFree('127.0.0.1', cfg.MLOPS_STACK_METRICS_PORT, 'MLOPS_STACK_METRICS_PORT');
    const metricsServer = await serveMetrics(metrics.registry, '127.0.0.1', cfg.MLOPS_STACK_METRICS_PORT);
    metricsServer.unref();
    return startStack(cfg, tools, log, supervisor);
  })();
  const first = await Promise.race([
    starting.then(
      (stack) => ({ stack }),
      (err: unknown) => ({ err })
    ),
    signals.done.then((code) => ({ code })),
  ]);
  if ('code' in first) return first.code;
  if ('err' in first) {
    if (signals.requested) return signals.done; // Stopped while starting: not an error.
    console.error(`[stack] ${message(first.err)}`);
    await supervisor.stop();
    return 1;
  }
  const { urls, front } = first.stack;
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  log(`  API            ${urls.api}  (OpenAPI: ${urls.api}/openapi.json)`);
  log(`  inference      ${urls.inference}/v2/models/{name}/infer  (Open Inference Protocol v2)`);
  log(`  Temporal UI    ${urls.temporalUi}  (sign in first to read decoded payloads: ${urls.signIn})`);
  log(`  API metrics    ${urls.apiMetrics}`);
  log(`  worker metrics ${urls.workerMetrics.join(' ')}`);
  log(
    `  stack metrics  http://127.0.0.1:${cfg.MLOPS_STACK_METRICS_PORT}/metrics (restarts: ${cfg.MLOPS_STACK_RESTART})`
  );
  log(`  admin token    ${urls.adminTokenPath ?? 'from MLOPS_ADMIN_TOKEN'}`);
  log('press Ctrl-C to stop');

  if (cfg.MLOPS_DEMO === '1') {
    const adminToken = cfg.MLOPS_ADMIN_TOKEN ?? readFileSync(urls.adminTokenPath!, 'utf8').trim();
    runDemo({
      apiUrl: urls.api,
      inferenceUrl: urls.inference,
      adminToken,
      dataDir: cfg.dataDir,
      temporalUi: urls.temporalUi,
      log,
      signal: demoStop.signal,
    }).catch((err) => demoStop.signal.aborted || log(`demo run failed: ${message(err)} (the stack keeps running)`));
  }

  const outcome = await Promise.race([
    signals.done.then((code) => ({ code })),
    supervisor.failed.then((failure) => ({ failure })),
  ]);
  demoStop.abort();
  let code: number;
  if ('failure' in outcome) {
    const { child, reason, tail } = outcome.failure;
    log(`${reason}; stopping the stack. Last lines of ${child}:\n${tail}`);
    await supervisor.stop();
    code = 1;
  } else {
    code = outcome.code;
    log('stopped');
  }
  await front.close();
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[stack] ${message(err)}`);
    process.exit(1);
  }
);
