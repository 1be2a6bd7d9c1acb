// `npm start`: provisions the tools if needed, starts the embedded stack, prints where
// everything is, then runs the demo pipeline (tools/stack/demo.ts). Ctrl-C or
// SIGTERM stops every child; a second Ctrl-C kills them at once. MLOPS_DEMO=0 skips the demo.
import { ConfigError, loadConfig } from '../../lib/config';
import { provisionTools } from '../provision';
import { ProvisionError } from '../provision/run-command';
import { readFileSync } from 'node:fs';
import { runDemo } from './demo';
import { startStack } from './stack';

const log = (line: string) => console.log(`[stack] ${line}`);

async function main(): Promise<number> {
  const started = Date.now();
  const cfg = loadConfig();
  const tools = await provisionTools(cfg, (line) => log(line));
  const stack = await startStack(cfg, tools, log);
  const { urls } = stack;
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  log(`  API            ${urls.api}  (OpenAPI: ${urls.api}/openapi.json)`);
  log(`  inference      ${urls.inference}/v2/models/{name}/infer  (Open Inference Protocol v2)`);
  log(`  Temporal UI    ${urls.temporalUi}`);
  log(`  API metrics    ${urls.apiMetrics}`);
  log(`  worker metrics ${urls.workerMetrics.join(' ')}`);
  log(`  admin token    ${urls.adminTokenPath ?? 'from MLOPS_ADMIN_TOKEN'}`);
  log('press Ctrl-C to stop');

  const demoStop = new AbortController();
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
    }).catch((err) => log(`demo run failed: ${err instanceof Error ? err.message : err} (the stack keeps running)`));
  }

  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    let count = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (++count > 1) {
        log('second signal: killing children now');
        process.exit(130);
      }
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const outcome = await Promise.race([signalled.then((sig) => ({ sig })), stack.died.then((child) => ({ child }))]);
  demoStop.abort();
  if ('child' in outcome) {
    const { code, signal } = await outcome.child.exited;
    log(`${outcome.child.spec.name} exited unexpectedly (code ${code}, signal ${signal}); stopping the stack`);
    await stack.stop();
    return 1;
  }
  log(`${outcome.sig}: stopping`);
  await stack.stop();
  log('stopped');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    const known = err instanceof ConfigError || err instanceof ProvisionError;
    console.error(known ? `[stack] ${err.message}` : `[stack] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
);
