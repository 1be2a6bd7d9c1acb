/** @jest-environment ./test/unit/ml/ort-environment.js */
// The real inference server is killed (SIGKILL, its whole process group) during a canary step
// while a load generator calls it, and restarted on the same store (on another port; the load
// generator follows it). The restarted server comes back holding the current split, the rollout
// waits for it instead of failing, and it ends in production with every decision recorded once.
import { randomUUID } from 'node:crypto';
import { listDeploymentDecisions } from '../../../lib/store/deployment-records';
import { fieldKey, servingInstances, trafficSplits } from '../../../lib/store/deployments';
import { getModel } from '../../../lib/store/models';
import { rolloutQuery } from '../../../workflows/rollout-messages';
import { waitFor } from '../harness/wait';
import { loadGenerator, penguinsSplit, spawnInference, type InferenceChild, type ServingEnv } from '../serving/helpers';
import { fastDeploy, realServerRollout, startRollout, type RealServerRollout } from './helpers';

const MODEL = `penguins-${randomUUID().slice(0, 6)}`;
const data = penguinsSplit();

let rig: RealServerRollout;
let env: ServingEnv;
let server: InferenceChild;

beforeAll(async () => {
  rig = await realServerRollout(MODEL, data, { versions: 2 }); // v2: a good candidate
  env = rig.env;
  server = env.server;
}, 180_000);
afterAll(async () => {
  if (server !== env?.server) await server?.child.stop(5_000);
  await rig?.close();
});

/** The servers that report this model in serving_instances, by id. */
async function instanceIds(): Promise<string[]> {
  const docs = await servingInstances(env.store.db)
    .find({ [`models.${fieldKey(MODEL)}`]: { $exists: true } })
    .toArray();
  return docs.map((d) => d._id);
}

it('resumes a canary after the inference server is killed and restarted, running no step twice', async () => {
  const load = loadGenerator(() => server.url, MODEL, env.tokens.predictor, data.test);
  try {
    const deploy = fastDeploy({
      steps: [10, 50, 100],
      bake: '4s',
      checkEvery: '500ms',
      inconclusiveAfter: '60s', // the outage leaves a window without requests: wait, do not pause
      serverTimeout: '60s',
      gates: { minRequests: 15, maxErrorRate: 0.05, maxP99Ms: 2000, maxPredictionShift: 0.3 },
    });
    const handle = await startRollout(rig.rollout, MODEL, deploy, { version: 2 });
    await waitFor(
      'the candidate answering at the first step',
      async () => {
        const s = await handle.query(rolloutQuery);
        return s.weight === 10 && (load.seen['2:200'] ?? 0) > 0;
      },
      90_000
    );

    const before = await instanceIds();
    await server.child.kill();
    const held = (await trafficSplits(env.store.db).findOne({ _id: MODEL }))!.revision;
    const answeredBefore = load.seen['2:200'] ?? 0;
    server = await spawnInference(env.cfg);
    // Ready means it loaded the split: its first heartbeat holds the revision the kill interrupted (or later).
    const restarted = await waitFor(
      'the restarted server heartbeat',
      async () => {
        const ids = (await instanceIds()).filter((id) => !before.includes(id));
        if (ids.length === 0) return undefined;
        const doc = await servingInstances(env.store.db).findOne({ _id: ids[0]! });
        return doc?.models[fieldKey(MODEL)];
      },
      30_000
    );
    expect(restarted.splitRevision).toBeGreaterThanOrEqual(held);
    expect(restarted.loaded).toEqual([1, 2]);

    const result = await handle.result();
    expect(result).toMatchObject({ state: 'succeeded', stable: 1 });
    expect((await getModel(env.store, MODEL))?.aliases.production?.version).toBe(2);
    const decisions = await listDeploymentDecisions(env.store, result.deploymentId);
    expect(decisions.map((d) => `${d.kind}:${d.weight ?? ''}`)).toEqual([
      'start:0',
      'step:10',
      'gate:10',
      'step:50',
      'gate:50',
      'promote:0', // the split is cleared once production names the candidate
    ]);
    expect(new Set(decisions.map((d) => d.seq)).size).toBe(decisions.length);
    expect(load.seen['2:200']).toBeGreaterThan(answeredBefore); // the restarted server answered by the split
  } finally {
    await load.stop();
  }
});
