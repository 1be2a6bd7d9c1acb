// The `mlops` CLI against a real API (in-process, port 0): config from env and file,
// human and --json output, errors from problem details, and exit codes.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../../cli/main';
import { MEDIA, putArtifact } from '../../../lib/store/artifacts';
import { registerModelVersion, updateModelVersion } from '../../../lib/store/models';
import { updateRun } from '../../../lib/store/runs';
import { recordMetric } from '../../../lib/store/metrics';
import { MINIMAL_SPEC, reindexRun, seedRun, startTestApi, type TestApi } from './helpers';

let api: TestApi;
let dir: string;

beforeAll(async () => {
  api = await startTestApi();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlops-cli-'));
  await seedRun(api, {
    runId: 'run-cli-1',
    model: 'penguins',
    spec: { ...MINIMAL_SPEC, trainer: { epochs: 10 } },
    createdBy: 'sam',
  });
  await updateRun(api.store, 'run-cli-1', {
    status: 'succeeded',
    stage: 'done',
    durationMs: 4200,
    metrics: { accuracy: 0.97 },
    registered: { name: 'penguins', version: 1 },
  });
  await reindexRun(api, 'run-cli-1');
  await recordMetric(api.store, { runId: 'run-cli-1', series: 'train', step: 9, values: { loss: 0.1 } });
  const ref = await putArtifact(api.store, Buffer.from('onnx-bytes'), MEDIA.onnx);
  await registerModelVersion(api.store, {
    name: 'penguins',
    runId: 'run-cli-1',
    metrics: { accuracy: 0.97 },
    artifacts: { onnx: ref },
    lineage: {} as never,
  });
  await updateModelVersion(api.store, 'penguins', 1, { status: 'approved' });
});
afterAll(async () => {
  await api?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function mlops(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: { MLOPS_API_URL: api.url, MLOPS_TOKEN: api.tokens.admin, MLOPS_CONFIG: path.join(dir, 'none.json'), ...env },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    sleep: async () => undefined,
  });
  return { code, stdout, stderr };
}

it('prints help and refuses unknown commands with exit 2', async () => {
  expect((await mlops(['help'])).stdout).toMatch(/runs start SPEC.json/);
  const bad = await mlops(['runs', 'frobnicate']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/unknown runs command "frobnicate"/);
  expect((await mlops(['runs', 'list', '--colour'])).code).toBe(2);
});

it('reads URL and token from a config file, and never prints the token', async () => {
  const file = path.join(dir, 'config.json');
  await fs.writeFile(file, JSON.stringify({ url: api.url, token: api.tokens.viewer }));
  const r = await mlops(['whoami'], { MLOPS_API_URL: undefined, MLOPS_TOKEN: undefined, MLOPS_CONFIG: file });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^vera \(viewer\)/);
  const c = await mlops(['config', '--json'], { MLOPS_TOKEN: undefined, MLOPS_CONFIG: file });
  expect(JSON.parse(c.stdout)).toEqual({ url: api.url, tokenSource: file, configFile: file });
  expect(c.stdout + r.stdout).not.toContain(api.tokens.viewer);
  const tf = path.join(dir, 'token');
  await fs.writeFile(tf, api.tokens.approver + '\n');
  expect((await mlops(['whoami', '--token-file', tf], { MLOPS_TOKEN: undefined })).stdout).toMatch(/^alice/);
});

it('lists and shows runs, human and --json', async () => {
  const list = await mlops(['runs', 'list', '--model', 'penguins']);
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/RUN\s+MODEL\s+STATUS/);
  expect(list.stdout).toMatch(/run-cli-1\s+penguins v1\s+succeeded\s+done/);
  const json = JSON.parse((await mlops(['runs', 'list', '--json', '--status', 'succeeded'])).stdout);
  expect(json.items.map((r: { runId: string }) => r.runId)).toEqual(['run-cli-1']);
  const show = await mlops(['runs', 'show', 'run-cli-1']);
  expect(show.stdout).toMatch(/status:\s+succeeded/);
  expect(show.stdout).toMatch(/accuracy=0.97/);
});

it('watch returns 0 for a succeeded run and 3 for one that did not succeed', async () => {
  expect((await mlops(['runs', 'watch', 'run-cli-1'])).code).toBe(0);
  await seedRun(api, { runId: 'run-cli-2', model: 'penguins', spec: MINIMAL_SPEC, createdBy: 'sam' });
  await updateRun(api.store, 'run-cli-2', {
    status: 'failed',
    stage: 'ingest',
    error: { message: 'no such column species' },
  });
  const w = await mlops(['runs', 'watch', 'run-cli-2']);
  expect(w.code).toBe(3);
  expect(w.stdout).toMatch(/run-cli-2 failed: no such column species/);
});

it('starts a run from flags with an idempotency key', async () => {
  const args = [
    'runs',
    'start',
    '--model',
    'penguins',
    '--dataset',
    'penguins',
    '--target',
    'species',
    '--idempotency-key',
    'cli-1',
  ];
  const first = await mlops(args, { MLOPS_TOKEN: api.tokens.scientist });
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/^started run-/);
  const again = await mlops([...args, '--json'], { MLOPS_TOKEN: api.tokens.scientist });
  const body = JSON.parse(again.stdout);
  expect(body.replayed).toBe(true);
  expect(first.stdout).toContain(body.runId);
  await mlops(['runs', 'cancel', body.runId, '--reason', 'test'], { MLOPS_TOKEN: api.tokens.scientist });
});

it('shows API problems as messages with exit 1', async () => {
  const denied = await mlops(['runs', 'approve', 'run-cli-1'], { MLOPS_TOKEN: api.tokens.viewer });
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/Forbidden: Role viewer may not/);
  const start = ['runs', 'start', '--model', 'penguins', '--dataset', 'penguins', '--target', 'species'];
  const noFleet = await mlops([...start, '--region', 'ap'], { MLOPS_TOKEN: api.tokens.scientist });
  expect(noFleet.code).toBe(1);
  expect(noFleet.stderr).toMatch(/Run refused: no worker fleet is configured for region 'ap'/);
  const missing = await mlops(['runs', 'show', 'run-nope']);
  expect(missing.stderr).toMatch(/Not found: No run run-nope/);
  const unreachable = await mlops(['runs', 'list'], { MLOPS_API_URL: 'http://127.0.0.1:1' });
  expect(unreachable.code).toBe(1);
  expect(unreachable.stderr).toMatch(/cannot reach the API at http:\/\/127.0.0.1:1/);
});

it('lists, shows and promotes models', async () => {
  expect((await mlops(['models', 'list'])).stdout).toMatch(/penguins\s+1\s+-/);
  const promoted = await mlops(['models', 'promote', 'penguins', '1', '--reason', 'cli']);
  expect(promoted.code).toBe(0);
  expect(promoted.stdout).toMatch(/penguins: production -> v1/);
  expect((await mlops(['models', 'show', 'penguins'])).stdout).toMatch(/aliases:\s+production=v1/);
  expect((await mlops(['models', 'show', 'penguins', '--version', '1'])).stdout).toMatch(/artifact: onnx/);
});
