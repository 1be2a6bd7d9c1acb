/** @jest-environment ./test/unit/ml/ort-environment.js */
// Rollouts against a real inference server (serving/main.ts as a child process, reading the
// traffic split and writing serving_stats) under a load generator inside the test, with the real
// control worker: a good candidate goes 10 -> 50 -> 100 and becomes production; a candidate made
// to fail half its requests (MLOPS_INFERENCE_FAULTS) is rolled back at its first step, and once
// the split is back no caller meets it again.
import { randomUUID } from 'node:crypto';
import { listDeploymentDecisions } from '../../../lib/store/deployment-records';
import { getModel } from '../../../lib/store/models';
import { loadGenerator, penguinsSplit, type ServingEnv } from '../serving/helpers';
import { fastDeploy, realServerRollout, startRollout, type RealServerRollout } from './helpers';

const MODEL = `penguins-${randomUUID().slice(0, 6)}`;
const data = penguinsSplit();
/** v3 fails half its requests. */
const FAULTS = { MLOPS_INFERENCE_FAULTS: JSON.stringify({ [`${MODEL}@3`]: { errorRate: 0.5, delayMs: 0 } }) };

let rig: RealServerRollout;
let env: ServingEnv;

beforeAll(async () => {
  rig = await realServerRollout(MODEL, data, { versions: 3, serverEnv: () => FAULTS }); // v2 good, v3 faulted
  env = rig.env;
}, 180_000);
afterAll(async () => {
  await rig?.close();
});

const deploy = () =>
  fastDeploy({
    steps: [10, 50, 100],
    bake: '3s',
    checkEvery: '500ms',
    serverTimeout: '60s',
    gates: { minRequests: 15, maxErrorRate: 0.05, maxP99Ms: 1000, maxPredictionShift: 0.3 },
  });

it('takes a good candidate from 10% to production under live traffic', async () => {
  const load = loadGenerator(env.server.url, MODEL, env.tokens.predictor, data.test);
  try {
    const handle = await startRollout(rig.rollout, MODEL, deploy(), { version: 2 });
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'succeeded', stable: 1 });
    expect((await getModel(env.store, MODEL))?.aliases.production).toMatchObject({
      version: 2,
      previous: { version: 1 },
    });
    const gates = (await listDeploymentDecisions(env.store, result.deploymentId)).filter((d) => d.kind === 'gate');
    expect(gates.map((g) => g.outcome)).toEqual(['pass', 'pass']);
    expect(gates[0]!.metrics!.candidate.requests).toBeGreaterThanOrEqual(15);
  } finally {
    await load.stop();
  }
  expect(load.seen['2:200']).toBeGreaterThan(0); // the candidate answered callers during the canary
});

it('rolls back a candidate that fails half its requests at the first step; callers then meet stable only', async () => {
  const load = loadGenerator(env.server.url, MODEL, env.tokens.predictor, data.test);
  try {
    const handle = await startRollout(rig.rollout, MODEL, deploy(), { version: 3 });
    const result = await handle.result();
    expect(result.state).toBe('rolled_back');
    expect(result.reason).toMatch(/error rate/);
    const m = await getModel(env.store, MODEL);
    expect(m?.aliases.production?.version).toBe(2);
    expect(m?.aliases.candidate).toBeUndefined();
    const rollback = (await listDeploymentDecisions(env.store, result.deploymentId)).find((d) => d.kind === 'rollback');
    expect(rollback).toMatchObject({ weight: 10, outcome: 'rolled_back' });
    expect(load.seen['3:500']).toBeGreaterThan(0); // it did fail callers before the rollback
    // The rollout waited for the server to apply the rollback's split: v3 answers no one now.
    for (const k of Object.keys(load.seen)) delete load.seen[k];
    await new Promise((r) => setTimeout(r, 1_000));
  } finally {
    await load.stop();
  }
  expect(Object.keys(load.seen).filter((k) => k.startsWith('3:'))).toEqual([]);
  expect(load.seen['2:200']).toBeGreaterThan(0);
});
