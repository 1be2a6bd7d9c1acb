/** @jest-environment ./test/unit/ml/ort-environment.js */
// The control worker is killed (SIGKILL, its whole process group) in the middle of a canary step;
// a new one takes over from the workflow's history: the rollout resumes at its step and ends in
// production, with every step, split write and decision recorded exactly once and the split
// revision grown by one per change.
import { listDeploymentDecisions } from '../../../lib/store/deployment-records';
import { trafficSplits } from '../../../lib/store/deployments';
import { getModel } from '../../../lib/store/models';
import { openStore, type Store } from '../../../lib/store/db';
import { createClient } from '../../../lib/temporal/connection';
import type { Client } from '@temporalio/client';
import { rolloutQuery } from '../../../workflows/rollout-messages';
import { spawnTestFleet, testConfig } from '../harness/env';
import { waitFor } from '../harness/wait';
import { fastDeploy, feedStats, registeredModel, simulatedServer, startRollout, type RolloutEnv } from './helpers';

const good = { requests: 10, latencyMs: 5, predictions: { a: 6, b: 4 } };

let store: Store;
let client: Client;
const cfg = testConfig();
beforeAll(async () => {
  store = await openStore(cfg);
  client = await createClient(cfg);
});
afterAll(async () => {
  await client?.connection.close();
  await store?.close();
});

it('resumes a rollout at its step after the control worker is killed, running no step twice', async () => {
  const model = await registeredModel(store);
  const servers = simulatedServer(store);
  const feed = feedStats(store, model, { 1: good, 2: good });
  const first = await spawnTestFleet(cfg, { kinds: ['control'] });
  let second: Awaited<ReturnType<typeof spawnTestFleet>> | null = null;
  try {
    const env = { cfg, store, client } as unknown as RolloutEnv;
    const handle = await startRollout(env, model, fastDeploy({ steps: [20, 50, 100], bake: '4s' }));
    await waitFor('the first step', async () => (await handle.query(rolloutQuery)).weight === 20, 60_000);
    process.kill(-first.proc.pid!, 'SIGKILL');
    await first.exited;
    second = await spawnTestFleet(cfg, { kinds: ['control'] });
    const result = await handle.result();
    expect(result.state).toBe('succeeded');
    expect((await getModel(store, model))?.aliases.production?.version).toBe(2);
    const decisions = await listDeploymentDecisions(store, result.deploymentId);
    const steps = decisions.filter((d) => d.kind === 'step').map((d) => d.weight);
    expect(steps).toEqual([20, 50]);
    expect(decisions.filter((d) => d.kind === 'gate').map((d) => d.weight)).toEqual([20, 50]);
    // warm (0), 20, 50, 100, cleared: five split changes, five revisions.
    expect((await trafficSplits(store.db).findOne({ _id: model }))?.revision).toBe(5);
  } finally {
    await feed.stop();
    await servers.stop();
    await first.stop(2_000);
    await second?.stop(5_000);
  }
});
