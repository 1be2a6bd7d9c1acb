// `npm start`'s stack as a user runs it: everything comes up and answers; a worker killed
// by SIGKILL comes back (logged and counted); Ctrl-C to the whole process group (as a
// terminal sends it, npm forwarding it once more) leaves no process and no busy port, and
// a second start on the same ports keeps the data; a busy port is refused by name; and,
// with two GPU workers, killing one in mid-run leaves the stack up and the run finishes.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { HARNESS } from '../harness/state';
import { waitFor } from '../harness/wait';
import {
  adminToken,
  assertPortsFree,
  descendants,
  npmStart,
  signalGroup,
  stackEnv,
  survivors,
} from '../../../tools/stack/observe';

const temporal = (env: Record<string, string>, ...args: string[]) =>
  execFileSync(process.env[HARNESS.temporalBin]!, [...args, '--address', env.TEMPORAL_ADDRESS, '--output', 'json'], {
    encoding: 'utf8',
  });

const READY = /\[stack\] ready in/;

describe('embedded stack (npm start)', () => {
  it('restarts a killed worker, stops on Ctrl-C to its group without leftovers, restarts on its data', async () => {
    const env = await stackEnv();
    const api = `http://127.0.0.1:${env.MLOPS_API_PORT}`;
    const first = npmStart(env);
    let admin = '';
    try {
      await first.waitForLine(READY, 240_000);
      admin = adminToken(env);

      expect((await fetch(`${api}/readyz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/`)).status).toBe(200);
      const workerMetrics = await (await fetch(`http://127.0.0.1:${env.MLOPS_WORKER_METRICS_PORT}/metrics`)).text();
      expect(workerMetrics).toMatch(/process_cpu_user_seconds_total\{fleet="control"\}/);
      const sdkMetrics = await (
        await fetch(`http://127.0.0.1:${Number(env.MLOPS_WORKER_METRICS_PORT) + 1}/metrics`)
      ).text();
      expect(sdkMetrics).toMatch(/temporal_/);

      // A worker that dies comes back, and the stack says so and counts it.
      const cpuWorker = descendants(first.proc.pid!).find((p) => p.cmd.includes('workers/cpu.ts'))!;
      process.kill(cpuWorker.pid, 'SIGKILL');
      await first.waitForLine(/\[stack\] cpu-worker-1 is back \(restart 1\)/, 120_000);
      expect(first.tail()).toContain('[stack] cpu-worker-1 exited (signal SIGKILL); restart 1 in 1.0 s');
      const stackMetrics = await (await fetch(`http://127.0.0.1:${env.MLOPS_STACK_METRICS_PORT}/metrics`)).text();
      expect(stackMetrics).toContain('mlops_stack_child_restarts_total{child="cpu-worker-1"} 1');
      expect(stackMetrics).toContain('mlops_stack_child_up{child="cpu-worker-1"} 1');

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
        'persist'
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
    // The inference server is one of the supervised children, and answers.
    const ready = await fetch(`http://127.0.0.1:${env.MLOPS_INFERENCE_PORT}/v2/health/ready`);
    expect(ready.status).toBe(200);
    const tree = descendants(first.proc.pid!).map((p) => p.pid);
    expect(tree.length).toBeGreaterThanOrEqual(8); // node, temporal, mongodb, 3 workers, api, inference
    signalGroup(first, 'SIGINT');
    const exit = await first.exited;
    expect(await survivors(tree)).toEqual([]);
    // The launcher stopped cleanly; npm then ends by the signal it was sent, as a shell expects.
    expect(first.tail()).toMatch(/\[stack\] stopped$/);
    expect([exit.code, exit.signal]).toEqual([null, 'SIGINT']);
    await assertPortsFree(env);

    const second = npmStart(env);
    try {
      await second.waitForLine(READY, 240_000);
      expect(
        JSON.parse(temporal(env, 'workflow', 'describe', '--workflow-id', 'persist')).workflowExecutionInfo.type.name
      ).toBe('persistCheck');
      const tokens = await (await fetch(`${api}/v1/tokens`, { headers: { authorization: `Bearer ${admin}` } })).json();
      expect(JSON.stringify(tokens)).toContain('persist-check');
    } catch (err) {
      await second.stop(20_000);
      throw err;
    }
    // SIGTERM to the group, then again after the one-second window: every child is killed at once.
    const tree2 = descendants(second.proc.pid!).map((p) => p.pid);
    // (The graceful stop of six children takes longer than that on any machine seen so far; the
    // escalation itself is checked deterministically in test/unit/foundation/supervisor.test.ts.)
    signalGroup(second, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 1_500));
    const stillStopping = second.proc.exitCode === null && second.proc.signalCode === null;
    if (stillStopping) signalGroup(second, 'SIGTERM');
    await second.exited;
    if (stillStopping) expect(second.tail()).toContain('[stack] SIGTERM again: killing every child now');
    expect(await survivors(tree2)).toEqual([]);
    await assertPortsFree(env);
  }, 900_000);

  it('with 2 GPU workers, one killed in mid-run comes back and the run finishes', async () => {
    const env = await stackEnv({ MLOPS_GPU_WORKERS: '2', MLOPS_DEMO: '1' });
    const api = `http://127.0.0.1:${env.MLOPS_API_PORT}`;
    const stack = npmStart(env);
    try {
      const started = await stack.waitForLine(/demo: started run (\S+)/, 300_000);
      const runId = /demo: started run (\S+)/.exec(started)![1];
      await stack.waitForLine(/demo: \S+ running at train/, 120_000);
      const gpuWorkers = descendants(stack.proc.pid!).filter((p) => p.cmd.includes('workers/gpu.ts'));
      expect(gpuWorkers).toHaveLength(2);
      // Both watched from before the kill: the run may reach approval before the worker is back.
      const back = stack.waitForLine(/\[stack\] gpu-worker-\d is back \(restart 1\)/, 180_000);
      const trained = stack.waitForLine(/demo: \S+ awaiting_approval at approval/, 300_000);
      process.kill(gpuWorkers[0].pid, 'SIGKILL');
      await Promise.all([back, trained]);
      const admin = adminToken(env);
      const approved = await fetch(`${api}/v1/runs/${runId}/approval`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'approve' }),
      });
      expect(approved.status).toBeLessThan(300);
      const run = await waitFor(
        `run ${runId} to succeed`,
        async () => {
          const res = await fetch(`${api}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${admin}` } });
          const r = (await res.json()) as { status: string; model: { version: number } };
          return r.status === 'succeeded' && r;
        },
        120_000
      );
      expect(run.model.version).toBe(1);
    } finally {
      const tree = descendants(stack.proc.pid!).map((p) => p.pid);
      signalGroup(stack, 'SIGINT');
      await stack.exited;
      expect(await survivors(tree)).toEqual([]);
    }
  }, 900_000);

  it('refuses a port in use, naming the port and the variable that changes it', async () => {
    const env = await stackEnv();
    const blocker = net.createServer().listen(Number(env.MLOPS_API_PORT), '127.0.0.1');
    try {
      const stack = npmStart(env);
      const line = await stack.waitForLine(/already in use/, 120_000);
      expect(line).toContain(`Port ${env.MLOPS_API_PORT}`);
      expect(line).toContain('MLOPS_API_PORT');
      expect((await stack.exited).code).toBe(1);
    } finally {
      blocker.close();
    }
  });
});
