// `npm run smoke:image` (a CI phase, after `npm run build`): the app image's layout without
// Docker. Installs the production dependencies alone (`npm ci --omit=dev`, as the Dockerfile's
// prod-deps stage does) into a fresh folder, copies dist/, package.json and datasets/ beside them
// (as its app stage does), then starts the API, the three fleets and the inference server from there with plain node in
// production mode against the embedded servers, and runs the demo pipeline to `succeeded`
// (approved by the admin) and to a prediction from the inference server. Proves the images need no tsx, TypeScript or other dev dependency, and
// that the control worker runs workflows from the prebuilt bundle.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../lib/config';
import { PACKAGE_ROOT } from '../../lib/package-root';
import { provisionTools } from '../provision';
import { Child } from '../stack/child';
import { runDemo } from '../stack/demo';
import { freePort } from '../stack/ports';
import { startEmbeddedServers } from '../stack/services';

const ENTRIES = ['workers/control', 'workers/cpu', 'workers/gpu', 'api/server', 'serving/main'];
const DEV_ONLY = ['tsx', 'typescript', 'ts-jest', 'jest', 'esbuild'];

function installImageLayout(app: string): void {
  if (!existsSync(path.join(PACKAGE_ROOT, 'dist'))) throw new Error('no dist/: run `npm run build` first');
  for (const f of ['package.json', 'package-lock.json', '.npmrc'])
    cpSync(path.join(PACKAGE_ROOT, f), path.join(app, f));
  const npm = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: app, stdio: 'inherit' });
  if (npm.status !== 0) throw new Error(`npm ci --omit=dev failed (exit ${npm.status})`);
  const dev = DEV_ONLY.filter((p) => existsSync(path.join(app, 'node_modules', p)));
  if (dev.length) throw new Error(`production dependencies pull in dev-only packages: ${dev.join(', ')}`);
  for (const d of ['dist', 'datasets']) cpSync(path.join(PACKAGE_ROOT, d), path.join(app, d), { recursive: true });
}

async function main(): Promise<void> {
  const log = (line: string) => console.log(`[smoke] ${line}`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mlops-image-'));
  const app = path.join(tmp, 'app');
  const dataDir = path.join(tmp, 'data');
  mkdirSync(app);
  mkdirSync(dataDir);
  installImageLayout(app);
  log(`image layout in ${app}: production dependencies only`);
  const servers = await startEmbeddedServers(await provisionTools(loadConfig(), () => undefined), tmp);
  const adminToken = 'smoke-admin-token-'.padEnd(40, 'x');
  const apiUrl = `http://127.0.0.1:${await freePort()}`;
  const inferenceUrl = `http://127.0.0.1:${await freePort()}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    NODE_OPTIONS: '--enable-source-maps',
    MLOPS_ENV: 'production',
    MLOPS_ENCRYPTION_KEYS: `smoke:${Buffer.alloc(32, 1).toString('base64')}`,
    MLOPS_ADMIN_TOKEN: adminToken,
    TEMPORAL_ADDRESS: servers.temporalAddress,
    MONGODB_URI: servers.mongoUri,
    MLOPS_DATA_DIR: dataDir,
    MLOPS_DATASETS_DIR: path.join(app, 'datasets'),
    MLOPS_API_PORT: new URL(apiUrl).port,
    MLOPS_INFERENCE_PORT: new URL(inferenceUrl).port,
  };
  const children: Child[] = [];
  try {
    for (const entry of ENTRIES) {
      const child = new Child({ name: entry, command: process.execPath, args: [`dist/${entry}.js`], cwd: app, env });
      children.push(child);
      const ready = await child.waitForLine(/api listening|inference server listening|\bready\b/, 180_000);
      if (entry === 'workers/control' && !ready.includes('prebuilt bundle'))
        throw new Error(`the control worker did not load the prebuilt bundle: ${ready}`);
    }
    // The API's JSON, of which this reads a few fields.
    const api = async (method: string, route: string, body?: unknown): Promise<any> => {
      const res = await fetch(`${apiUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      return res.json();
    };
    // The demo submits as a scientist; the admin is the second pair of eyes.
    const stop = new AbortController();
    const approved = (async (): Promise<string | undefined> => {
      while (!stop.signal.aborted) {
        const waiting = await api('GET', '/v1/runs?status=awaiting_approval');
        const runId = waiting.items?.[0]?.runId as string | undefined;
        if (runId) {
          await api('POST', `/v1/runs/${runId}/approval`, { decision: 'approve' });
          return runId;
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
      return undefined;
    })();
    // The demo ends by asking the compiled inference server for a prediction of the promoted version.
    await runDemo({ apiUrl, inferenceUrl, adminToken, dataDir, temporalUi: '(none)', log, signal: stop.signal });
    stop.abort();
    const runId = await approved;
    const run = runId ? await api('GET', `/v1/runs/${runId}`) : undefined;
    if (run?.status !== 'succeeded') throw new Error(`the demo run ended ${run?.status ?? 'without approval'}`);
    log(`pipeline ${runId} succeeded on the compiled processes`);
  } finally {
    for (const c of children.reverse()) await c.stop(20_000);
    await servers.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`[smoke] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
