/** @jest-environment ./test/unit/ml/ort-environment.js */
// The whole loop on real servers, started by nothing but the traffic (issue 15's "done when"):
// the policy is set once through the API; live requests go through the real inference server
// into its drift sketches (and the sampled prediction log); the model's monitoring schedule
// fires by itself; calm traffic gives a calm report and no run, shifted traffic a drifted
// report, which signals the model's lifecycle workflow; that starts a retraining run naming the
// report as its trigger; the run waits for an approver (four eyes: the lifecycle requested it),
// and once approved its `deploy` canary steps to 100% under a load generator, and the new
// version holds `production`.
import type { Child } from '../../../tools/stack/child';
import { getModel } from '../../../lib/store/models';
import { listLifecycleDecisions } from '../../../lib/store/lifecycle-decisions';
import { getMonitoringReport, listMonitoringReports } from '../../../lib/store/monitoring';
import { runs } from '../../../lib/store/runs';
import { lifecycleWorkflowId } from '../../../lib/workflow-safe/lifecycle';
import { PREDICTION_LOG } from '../../../serving/prediction-log';
import { spawnTestFleet } from '../harness/env';
import { waitFor } from '../harness/wait';
import { call, startTestApi, type TestApi } from '../api/helpers';
import { monitoringEnv, sample, send, sketchedRequests, type MonitoringEnv } from '../monitoring/helpers';
import { penguinsSpec } from '../pipeline/helpers';
import { loadGenerator } from '../serving/helpers';

const EVERY = 10_000;
/** A loaded machine: each wait is long, and only states are asserted. */
const LONG = 300_000;

let env: MonitoringEnv;
let api: TestApi;
let gpu: Child;
beforeAll(async () => {
  env = await monitoringEnv(); // inference server, control + CPU workers in-process
  [gpu, api] = await Promise.all([spawnTestFleet(env.cfg, { kinds: ['gpu'] }), startTestApi({ cfg: env.cfg })]);
}, 240_000);
afterAll(async () => {
  await gpu?.stop(5_000);
  await api?.close();
  await env?.close();
});

/** The newest report of the model's scheduled windows that matches. */
const report = (
  model: string,
  what: string,
  pred: (r: Awaited<ReturnType<typeof listMonitoringReports>>[0]) => boolean
) => waitFor(what, async () => (await listMonitoringReports(env.store, model, 20)).find(pred), LONG);

async function runStatus(runId: string): Promise<string | undefined> {
  const r = await call(api, 'GET', `/v1/runs/${runId}`, { token: api.tokens.viewer });
  return r.status === 200 ? r.body.status : undefined;
}

it('shifted live traffic leads by itself to a drift report, a retraining run, an approval and a canary into production', async () => {
  const model = await env.model(); // v1: production, with the reference profile of its training split
  const policy = {
    monitor: { every: EVERY, window: '1h', minRows: 50 },
    retrain: {
      onDrift: true,
      cooldown: 0,
      maxPerDay: 5,
      spec: {
        ...penguinsSpec({ model }),
        approval: { required: true, timeout: '30m' },
        optimise: { int8: false },
        // The callers send v1's six inputs; the retrained version must take the same request.
        features: { drop: ['year'] },
        // v1 was registered by the test without training-row digests, so the champion is scored
        // on rows it may have seen: a looser regression gate, not none.
        gates: { maxRegression: 0.2 },
        deploy: {
          strategy: 'canary',
          steps: [20, 50, 100],
          bake: '3s',
          checkEvery: '500ms',
          inconclusiveAfter: '5m',
          serverTimeout: '2m',
          gates: { minRequests: 15, maxErrorRate: 0.05, maxP99Ms: 2000, maxPredictionShift: 0.3 },
        },
      },
    },
  };
  const put = await call(api, 'PUT', `/v1/models/${model}/policy`, { token: api.tokens.scientist, body: policy });
  expect(put.status).toBe(200);
  expect(put.body.schedules.monitor).toBe('created'); // one write schedules the monitoring too

  // Calm traffic (held-out rows: the training distribution): a calm report, and nothing starts.
  await send(env, model, env.data.test);
  const calm = await report(model, 'a calm scheduled report', (r) => r.rows >= env.data.test.length);
  expect(calm).toMatchObject({ status: 'ok', drifted: false, version: 1 });
  expect(await listLifecycleDecisions(env.store, model)).toEqual([]);

  // Shifted traffic: bigger birds, all on Biscoe. The next window drifts, and the rest follows.
  await send(env, model, sample(env.data.test, 300, 12, true));
  const drifted = await report(model, 'a drifted scheduled report', (r) => r.drifted);
  expect(drifted).toMatchObject({ status: 'ok', version: 1 });
  expect(drifted.dataset!.share).toBeGreaterThanOrEqual(0.5);

  const started = await waitFor(
    'the lifecycle to start a run',
    async () => (await listLifecycleDecisions(env.store, model)).find((d) => d.outcome === 'started'),
    LONG
  );
  const runId = started.runId!;
  // startRun inserts the record, then sets its triggers: wait for both.
  const run = await waitFor(
    'the run record with its triggers',
    async () => {
      const r = await runs(env.store.db).findOne({ _id: runId });
      return r?.triggers ? r : null;
    },
    LONG
  );
  expect(run).toMatchObject({ model, createdBy: `lifecycle:${model}` });
  // The run names what started it: drift report(s) of this model, each stored and drifted.
  const reportIds = (run.triggers ?? []).flatMap((t) => (t.kind === 'drift' ? [t.reportId] : []));
  expect(reportIds).toContain(drifted._id);
  for (const id of reportIds) expect(await getMonitoringReport(env.store, id)).toMatchObject({ model, drifted: true });

  await waitFor('the run to await approval', async () => (await runStatus(runId)) === 'awaiting_approval', LONG);
  const load = loadGenerator(env.server.url, model, env.tokens.predictor, env.data.test);
  let deploymentId: string;
  try {
    const approved = await call(api, 'POST', `/v1/runs/${runId}/approval`, {
      token: api.tokens.approver,
      body: { decision: 'approve', comment: 'retrain on drift looks good' },
    });
    expect(approved.status).toBe(202);
    expect(approved.body).toMatchObject({ runId, decision: 'approve', approver: api.subjects.approver });

    const done = await waitFor(
      'the rollout to end',
      async () => {
        const list = await call(api, 'GET', `/v1/deployments?model=${model}`, { token: api.tokens.viewer });
        const d = list.body.items?.[0];
        return d && ['succeeded', 'rolled_back', 'aborted', 'failed'].includes(d.state) ? d : undefined;
      },
      LONG
    );
    deploymentId = done.id;
    expect(done).toMatchObject({ model, version: 2, stable: 1, state: 'succeeded', runId });
  } finally {
    await load.stop();
  }
  const record = (await call(api, 'GET', `/v1/deployments/${deploymentId}`, { token: api.tokens.viewer })).body;
  const gates = record.decisions.filter((d: { kind: string }) => d.kind === 'gate');
  expect(gates.map((g: { outcome: string; weight: number }) => [g.weight, g.outcome])).toEqual([
    [20, 'pass'],
    [50, 'pass'],
  ]);
  expect(gates[0].metrics.candidate.requests).toBeGreaterThanOrEqual(15);
  expect(load.seen['2:200']).toBeGreaterThan(0); // the candidate answered callers during the canary
  expect((await getModel(env.store, model))?.aliases.production).toMatchObject({
    version: 2,
    previous: { version: 1 },
  });
  await waitFor('the run to succeed', async () => (await runStatus(runId)) === 'succeeded', LONG);
  console.log(
    JSON.stringify({
      model,
      calmReport: calm._id,
      driftReport: drifted._id,
      driftShare: drifted.dataset!.share,
      runId,
      triggers: run.triggers,
      deploymentId,
      decisions: record.decisions.map((d: Record<string, unknown>) => [d.kind, d.outcome, d.weight, d.by, d.reason]),
      gateMetrics: gates.map((g: { weight: number; metrics: Record<string, any> }) => ({
        weight: g.weight,
        candidate: g.metrics.candidate,
        stable: { requests: g.metrics.stable.requests, p99Ms: g.metrics.stable.p99Ms },
        shift: g.metrics.shift,
      })),
      logged: await env.store.db.collection(PREDICTION_LOG).countDocuments({ model }),
      sketched: await sketchedRequests(env, model),
    })
  );

  // Stop the loop: no more windows, and the lifecycle workflow ends with the test.
  await call(api, 'PUT', `/v1/models/${model}/policy`, { token: api.tokens.scientist, body: {} });
  await env.client.workflow
    .getHandle(lifecycleWorkflowId(model))
    .terminate('test over')
    .catch(() => undefined);
}, 1_200_000);
