// `npm start`'s stack as a user runs it: everything comes up, answers, keeps its data
// across a restart, refuses a busy port by name, and leaves no process behind on SIGINT.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Child, repoScript } from '../../../tools/stack/child';
import { freePort } from '../../../tools/stack/ports';
import { freePortBlock } from '../harness/ports';
import { HARNESS } from '../harness/state';

const temporalBin = () => process.env[HARNESS.temporalBin]!;

async function stackEnv(): Promise<Record<string, string>> {
  return {
    MLOPS_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'mlops-stack-')),
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    TEMPORAL_UI_PORT: String(await freePort()),
    MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}/`,
    MLOPS_API_PORT: String(await freePort()),
    MLOPS_INFERENCE_PORT: String(await freePort()),
    MLOPS_WORKER_METRICS_PORT: String(await freePortBlock(6)), // three workers, two ports each
    MLOPS_DEMO: '0',
    MLOPS_LOG_LEVEL: 'info',
  };
}

function startStack(env: Record<string, string>): Child {
  return repoScript('stack', 'tools/stack/main.ts', { env, sink: () => undefined });
}

/** Every process below `pid`, from /proc (children run in their own process groups). */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (parent: number) =>
    table.filter(([, ppid]) => ppid === parent).forEach(([child]) => (found.push(child), walk(child)));
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Processes of `pids` still alive after a short grace (esbuild helpers exit just after their parent). */
async function survivors(pids: number[]): Promise<string[]> {
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(alive).map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return String(pid);
    }
  });
}

const temporal = (env: Record<string, string>, ...args: string[]) =>
  execFileSync(temporalBin(), [...args, '--address', env.TEMPORAL_ADDRESS, '--output', 'json'], { encoding: 'utf8' });

describe('embedded stack (npm start)', () => {
  it('comes up, serves everything, keeps data across a restart and stops without leftovers', async () => {
    const env = await stackEnv();
    const api = `http://127.0.0.1:${env.MLOPS_API_PORT}`;
    const first = startStack(env);
    let admin = '';
    try {
      await first.waitForLine(/\[stack\] ready in/, 240_000);
      admin = readFileSync(path.join(env.MLOPS_DATA_DIR, 'admin-token'), 'utf8').trim();

      const ready = await fetch(`${api}/readyz`);
      expect(ready.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${env.MLOPS_INFERENCE_PORT}/v2/health/ready`)).status).toBe(200);
      const workerMetrics = await (await fetch(`http://127.0.0.1:${env.MLOPS_WORKER_METRICS_PORT}/metrics`)).text();
      expect(workerMetrics).toMatch(/process_cpu_user_seconds_total\{fleet="control"\}/);
      const sdkMetrics = await (
        await fetch(`http://127.0.0.1:${Number(env.MLOPS_WORKER_METRICS_PORT) + 1}/metrics`)
      ).text();
      expect(sdkMetrics).toMatch(/temporal_/);

      // State to find again after the restart: a Temporal execution and a MongoDB document.
      temporal(
        env,
        'workflow',
        'start',
        '--type',
        'persistCheck',
        '--task-queue',
        'nobody',
        '--workflow-id',
        'persist-check'
      );
      const created = await fetch(`${api}/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'persist-check', role: 'viewer' }),
      });
      expect(`${created.status} ${await created.text()}`).toMatch(/^201 /);
    } catch (err) {
      await first.stop(20_000);
      throw err;
    }
    const tree = descendants(first.proc.pid!);
    expect(tree.length).toBeGreaterThanOrEqual(7); // temporal, mongodb, 3 workers, api, inference
    process.kill(first.proc.pid!, 'SIGINT');
    expect((await first.exited).code).toBe(0);
    expect(await survivors(tree)).toEqual([]);

    const second = startStack(env);
    try {
      await second.waitForLine(/\[stack\] ready in/, 240_000);
      expect(
        JSON.parse(temporal(env, 'workflow', 'describe', '--workflow-id', 'persist-check')).workflowExecutionInfo.type
          .name
      ).toBe('persistCheck');
      const tokens = await (await fetch(`${api}/v1/tokens`, { headers: { authorization: `Bearer ${admin}` } })).json();
      expect(JSON.stringify(tokens)).toContain('persist-check');
    } finally {
      await second.stop(20_000);
    }
  }, 600_000);

  it('refuses a port in use, naming the port and the variable that changes it', async () => {
    const env = await stackEnv();
    const blocker = net.createServer().listen(Number(env.MLOPS_API_PORT), '127.0.0.1');
    try {
      const stack = startStack(env);
      const line = await stack.waitForLine(/already in use/, 120_000);
      expect(line).toContain(`Port ${env.MLOPS_API_PORT}`);
      expect(line).toContain('MLOPS_API_PORT');
      expect((await stack.exited).code).toBe(1);
    } finally {
      blocker.close();
    }
  });
});
