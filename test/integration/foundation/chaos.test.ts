// The chaos benchmark's scenarios (bench/chaos/scenarios.ts) with small counts, as a test: on
// the embedded stack started through `npm start`, a random worker SIGKILLed in each run and the
// Temporal dev server SIGKILLed in mid-run lose no run, and no run completes a step twice or
// registers a second model version (checked in the API, MongoDB and Temporal's history); the API
// SIGKILLed with submissions in flight answers nothing but 202, 5xx or a connection error, and
// a retry with the same Idempotency-Key gives the same single run.
import { descendants, npmStart, signalGroup, stackEnv, survivors } from '../../../tools/stack/observe';
import {
  apiKill,
  type ScenarioResult,
  type StackHandle,
  temporalKill,
  workerKills,
} from '../../../bench/chaos/scenarios';
import { HARNESS } from '../harness/state';

const expectExactlyOnce = (r: ScenarioResult) => {
  const failed = r.checks.filter((c) => !c.ok);
  expect({ scenario: r.scenario, failed }).toEqual({ scenario: r.scenario, failed: [] });
  expect(r.succeeded).toBe(r.runs);
  expect(r.duplicatedSteps).toBe(0);
  expect(r.extraModelVersions).toBe(0);
};

describe('chaos on the embedded stack', () => {
  it('loses no run to SIGKILLed workers, Temporal server or API, and does nothing twice', async () => {
    const env = await stackEnv({ MLOPS_GPU_WORKERS: '2', MLOPS_CPU_WORKERS: '1' });
    const stack = npmStart(env);
    const h: StackHandle = { stack, env, temporalBin: process.env[HARNESS.temporalBin]! };
    try {
      await stack.waitForLine(/\[stack\] ready in/, 300_000);
      const kinds = ['single', 'data-parallel', 'search'] as const;
      const kills = await workerKills(h, {
        runs: 3,
        kinds: [...kinds],
        maxDelayMs: 6_000,
        spacingMs: 15_000,
        runTimeoutMs: 600_000,
      });
      expectExactlyOnce(kills);
      expect(Object.values(kills.kills).reduce((a, b) => a + b, 0)).toBe(3);
      expectExactlyOnce(
        await temporalKill(h, { runs: 2, kinds: ['single'], maxDelayMs: 3_000, runTimeoutMs: 600_000 })
      );
      const metrics = await (await fetch(`http://127.0.0.1:${env.MLOPS_STACK_METRICS_PORT}/metrics`)).text();
      expect(metrics).toContain('mlops_stack_child_restarts_total{child="temporal"} 1');

      const api = await apiKill(h, { runs: 4, kinds: ['single'], maxDelayMs: 200, runTimeoutMs: 600_000 });
      expectExactlyOnce(api);
      expect(Object.keys(api.answers).filter((a) => !['202', '5xx', 'connection error'].includes(a))).toEqual([]);
      expect(api.replayMismatches).toBe(0);
      expect(api.halfWritten).toBe(0);
    } finally {
      const tree = descendants(stack.proc.pid!).map((p) => p.pid);
      signalGroup(stack, 'SIGINT');
      await stack.exited;
      expect(await survivors(tree)).toEqual([]);
    }
  }, 1_500_000);
});
