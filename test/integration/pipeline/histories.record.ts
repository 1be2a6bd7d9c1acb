// Records one history per way a pipeline run ends (succeeded, rejected, expired, failed), a run that
// deploys through the rollout workflow, canary rollouts that promote and roll back, a monitoring
// window and a model's lifecycle (coalesced triggers, a retraining child run, continue-as-new; and a
// failed child run whose data is retrained on again), with the current workflow code, encrypted
// with the replay key, as histories/pipeline-<outcome>-<tag>.json.
// Run it when a release changes the workflow, and commit the files next to the older ones (they
// guard patched()):   MLOPS_HISTORY_TAG=v4 npm run record:histories
// Not part of the suite (the file name does not end in .test.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { workflowBundle } from '../harness/env';
import { HISTORIES_DIR as HISTORIES, REPLAY_KEY, replayHistory } from './committed-histories';
import { decide, penguinsSpec, pipelineEnv, startPipeline, waitForStatus, type PipelineEnv } from './helpers';
import { fastDeploy, feedStats, registeredModel, startRollout, type RolloutEnv } from '../deploy/helpers';
import { rolloutWorkflowId } from '../../../workflows/rollout-messages';
import { signalRetrainTrigger } from '../../../lib/lifecycle/trigger';
import { listLifecycleDecisions } from '../../../lib/store/lifecycle-decisions';
import { putModelPolicy } from '../../../lib/store/policies';
import { modelPolicySchema } from '../../../lib/spec/policy';
import { lifecycleWorkflowId } from '../../../lib/workflow-safe/lifecycle';
import type { LifecycleInput } from '../../../workflows/lifecycle';
import type { MonitorModelInput } from '../../../workflows/monitor';
import { waitFor } from '../harness/wait';

const TAG = process.env.MLOPS_HISTORY_TAG;

describe('record pipeline histories', () => {
  let env: PipelineEnv;
  const root = mkdtempSync(path.join(os.tmpdir(), 'mlops-replay-'));
  beforeAll(async () => {
    writeFileSync(path.join(root, 'tiny-bad.csv'), 'a,y\n1,x\n2,y\n3,x\n4,y\n');
    env = await pipelineEnv({ env: { MLOPS_DATASETS_DIR: root, MLOPS_ENCRYPTION_KEYS: REPLAY_KEY } });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('records runs that succeeded, were rejected, expired and failed', async () => {
    if (!TAG || !/^[a-z0-9-]{1,20}$/.test(TAG)) throw new Error('Set MLOPS_HISTORY_TAG to the release, e.g. v4.');
    const approve = await startPipeline(env, penguinsSpec({ dataset: { name: 'penguins' } }));
    const reject = await startPipeline(env, penguinsSpec({ dataset: { name: 'penguins' } }));
    const expire = await startPipeline(
      env,
      penguinsSpec({ dataset: { name: 'penguins' }, approval: { timeout: '1s' } })
    );
    const fail = await startPipeline(env, penguinsSpec({ dataset: { path: 'tiny-bad.csv' }, target: 'zzz' }));
    await waitForStatus(approve, 'awaiting_approval');
    await decide(env, approve, { decision: 'approve', approver: 'carol' });
    await waitForStatus(reject, 'awaiting_approval');
    await decide(env, reject, { decision: 'reject', approver: 'dave', comment: 'no' });
    const outcomes = await Promise.all(
      [approve, reject, expire, fail].map((h) =>
        h.result().then(
          (r) => r.status,
          () => 'failed'
        )
      )
    );
    expect(outcomes).toEqual(['succeeded', 'rejected', 'expired', 'failed']);
    const names = ['succeeded', 'rejected', 'expired', 'failed'];
    for (const [i, h] of [approve, reject, expire, fail].entries()) {
      const history = await h.fetchHistory();
      await replayHistory(workflowBundle(), history, h.workflowId);
      writeFileSync(
        path.join(HISTORIES, `pipeline-${names[i]}-${TAG}.json`),
        JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n'
      );
    }
  });

  const save = async (h: WorkflowHandle, name: string) => {
    const history = await h.fetchHistory();
    await replayHistory(workflowBundle(), history, h.workflowId);
    writeFileSync(
      path.join(HISTORIES, `${name}-${TAG}.json`),
      JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n'
    );
  };

  it('records a run deployed through a rollout, and canary rollouts that promote and roll back', async () => {
    if (!TAG || !/^[a-z0-9-]{1,20}$/.test(TAG)) throw new Error('Set MLOPS_HISTORY_TAG to the release, e.g. v4.');
    const spec = penguinsSpec({ dataset: { name: 'penguins' }, deploy: fastDeploy() });
    const run = await startPipeline(env, spec);
    await waitForStatus(run, 'awaiting_approval');
    await decide(env, run, { decision: 'approve', approver: 'carol' });
    expect((await run.result()).status).toBe('succeeded');
    await save(run, 'pipeline-deployed');
    await save(env.client.workflow.getHandle(rolloutWorkflowId(spec.model)), 'rollout-first-version');

    const renv = env as unknown as RolloutEnv;
    const good = { requests: 10, latencyMs: 5, predictions: { a: 6, b: 4 } };
    for (const [name, candidate, state] of [
      ['rollout-canary-promoted', good, 'succeeded'],
      ['rollout-canary-rolled-back', { ...good, errors: 5 }, 'rolled_back'],
    ] as const) {
      const model = await registeredModel(env.store);
      const feed = feedStats(env.store, model, { 1: good, 2: candidate });
      const h = await startRollout(renv, model, fastDeploy());
      expect((await h.result()).state).toBe(state);
      await feed.stop();
      await save(h, name);
    }
  });

  it('records a monitoring window, and a lifecycle that coalesces triggers, retrains and continues as new', async () => {
    if (!TAG || !/^[a-z0-9-]{1,20}$/.test(TAG)) throw new Error('Set MLOPS_HISTORY_TAG to the release, e.g. v4.');
    const monitored = `monitor-${Date.now()}`;
    const monitorInput: MonitorModelInput = { model: monitored, queues: { cpu: env.cfg.queues.cpu } };
    const window = await env.client.workflow.start('monitorModel', {
      taskQueue: env.cfg.queues.control,
      workflowId: `monitor-${monitored}`,
      args: [monitorInput],
    });
    expect(await window.result()).toMatchObject({ status: 'no_reference', drifted: false });
    await save(window, 'monitor-no-reference');

    const spec = penguinsSpec({ approval: { required: false }, optimise: { int8: false } });
    const policy = modelPolicySchema.parse({ retrain: { onDrift: true, cooldown: 0, maxPerDay: 10, spec } });
    await putModelPolicy(env.store, spec.model, policy, 'recorder');
    // Two decisions per run: the run started and finished, then it continues as new.
    const input: LifecycleInput = { model: spec.model, options: { decisionsPerRun: 2, coalesceMs: 1000 } };
    const life = await env.client.workflow.start('modelLifecycle', {
      taskQueue: env.cfg.queues.control,
      workflowId: lifecycleWorkflowId(spec.model),
      args: [input],
    });
    const at = new Date().toISOString();
    const target = { model: spec.model, taskQueue: env.cfg.queues.control };
    await Promise.all([
      signalRetrainTrigger(env.client, target, { kind: 'drift', reportId: 'report-1', at }),
      signalRetrainTrigger(env.client, target, { kind: 'drift', reportId: 'report-2', at }),
    ]);
    const decisions = await waitFor(
      'the lifecycle run started and finished',
      async () => {
        const d = (await listLifecycleDecisions(env.store, spec.model)).reverse();
        return d.length >= 2 ? d : undefined;
      },
      240_000
    );
    expect(decisions.map((d) => d.outcome)).toEqual(['started', 'finished']);
    expect(decisions[0].triggers).toHaveLength(2);
    const first = env.client.workflow.getHandle(life.workflowId, life.firstExecutionRunId);
    await waitFor(
      'continue-as-new',
      async () => (await first.describe()).status.name === 'CONTINUED_AS_NEW' || undefined,
      60_000
    );
    await save(first, 'lifecycle-coalesced-continued');
    await env.client.workflow.getHandle(life.workflowId).terminate('recorded');
  });

  it('records a lifecycle whose run fails, so it forgets that data and retrains on it again', async () => {
    if (!TAG || !/^[a-z0-9-]{1,20}$/.test(TAG)) throw new Error('Set MLOPS_HISTORY_TAG to the release, e.g. v4.');
    const spec = penguinsSpec({ dataset: { path: 'tiny-bad.csv' }, target: 'zzz', approval: { required: false } });
    const onData = { dataset: 'tiny', checkEvery: 0 };
    const policy = modelPolicySchema.parse({ retrain: { onData, cooldown: 0, maxPerDay: 10, spec } });
    await putModelPolicy(env.store, spec.model, policy, 'recorder');
    const input: LifecycleInput = { model: spec.model, options: { coalesceMs: 500 } };
    const life = await env.client.workflow.start('modelLifecycle', {
      taskQueue: env.cfg.queues.control,
      workflowId: lifecycleWorkflowId(spec.model),
      args: [input],
    });
    const target = { model: spec.model, taskQueue: env.cfg.queues.control };
    const sha256 = 'e'.repeat(64);
    for (const n of [2, 4]) {
      const at = new Date().toISOString();
      await signalRetrainTrigger(env.client, target, { kind: 'data', dataset: 'tiny', sha256, at });
      await waitFor(
        `lifecycle decision ${n}`,
        async () => ((await listLifecycleDecisions(env.store, spec.model)).length >= n ? true : undefined),
        240_000
      );
    }
    const outcomes = (await listLifecycleDecisions(env.store, spec.model)).reverse().map((d) => d.outcome);
    expect(outcomes).toEqual(['started', 'finished', 'started', 'finished']);
    await env.client.workflow.getHandle(life.workflowId).terminate('recorded');
    await save(life, 'lifecycle-failed-run-retrained');
  });
});
