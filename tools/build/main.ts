// `npm run build`: the production build the images run. Compiles the runtime sources with tsc
// to dist/ (source maps beside them), prebuilds the workflow bundle the control worker loads
// instead of running webpack at every start, and replays the committed workflow histories
// against that very bundle, so a build whose workflow code breaks running executions fails here.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { PACKAGE_ROOT } from '../../lib/package-root';
import { bundleWorkflows, PREBUILT_BUNDLE_PATH } from '../../workers/workflow-bundle';
import { replayCommittedHistories } from '../../test/integration/pipeline/committed-histories';

const DIST = path.join(PACKAGE_ROOT, 'dist');
/** Where the compiled workers/ look for it (PREBUILT_BUNDLE_PATH is that file's name beside workers/). */
const BUNDLE = path.join(DIST, path.basename(PREBUILT_BUNDLE_PATH));

async function step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await fn();
  console.log(`[build] ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

async function main(): Promise<void> {
  // Replay runs a worker; its state-change lines would bury the build's own.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  rmSync(DIST, { recursive: true, force: true });
  await step('tsc -p tsconfig.build.json -> dist/', () => {
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: PACKAGE_ROOT,
      stdio: 'inherit',
    });
    if (tsc.status !== 0) throw new Error(`tsc failed (exit ${tsc.status}); run \`npm run typecheck\` to see why`);
  });
  await step(`workflow bundle -> ${path.relative(PACKAGE_ROOT, BUNDLE)}`, async () =>
    writeFileSync(BUNDLE, await bundleWorkflows())
  );
  const files = await step('replay of the committed histories against the bundle', () =>
    replayCommittedHistories({ codePath: BUNDLE })
  );
  console.log(`[build] replayed ${files.length} histories: ${files.join(', ')}`);
}

main().catch((err) => {
  console.error(`[build] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
