// Starts one real Temporal dev server and one real MongoDB-wire server (FerretDB) for the
// whole integration run, on free ports in a temporary folder, and bundles workflow code
// once. Test files read the addresses from env (see env.ts); jest cannot pass objects.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../lib/config';
import { provisionTools } from '../../../tools/provision';
import { startEmbeddedServers } from '../../../tools/stack/services';
import { bundleWorkflows } from '../../../workers/workflow-bundle';
import { HARNESS, harnessState } from './state';

const ROOT = path.resolve(__dirname, '../../..');

async function bundle(workflowsPath: string, codePath: string): Promise<void> {
  writeFileSync(codePath, await bundleWorkflows(workflowsPath));
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const tools = await provisionTools(loadConfig(), (line) => console.log(`[harness] ${line}`));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlops-it-'));
  // Bundle first: a workflow that does not compile fails the run before any server starts.
  const productBundle = path.join(dir, 'workflows-bundle.js');
  const fixtureBundle = path.join(dir, 'fixture-workflows-bundle.js');
  await bundle(path.join(ROOT, 'workflows/index.ts'), productBundle);
  await bundle(path.join(__dirname, 'fixtures/workflows.ts'), fixtureBundle);

  const servers = await startEmbeddedServers(tools, dir);
  harnessState().servers = servers;

  process.env[HARNESS.dir] = dir;
  process.env[HARNESS.temporal] = servers.temporalAddress;
  process.env[HARNESS.mongo] = servers.mongoUri;
  process.env[HARNESS.bundle] = productBundle;
  process.env[HARNESS.fixtureBundle] = fixtureBundle;
  process.env[HARNESS.temporalBin] = tools.temporal;
  console.log(
    `[harness] servers ready in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(temporal ${process.env[HARNESS.temporal]}, mongodb ${process.env[HARNESS.mongo]}, logs ${path.join(dir, 'servers.log')})`
  );
}
