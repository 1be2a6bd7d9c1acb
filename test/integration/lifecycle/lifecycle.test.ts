// The per-model lifecycle workflow on real servers: triggers sent together give one run, the same
// data gives none (but a failed run's data retrains), a retrain schedule fires and follows the
// policy, and the workflow survives a SIGKILLed control worker and continues as new with its state.
import { randomUUID } from 'node:crypto';
import { showPolicy } from '../../../api/commands/policy';
import { signalRetrainTrigger } from '../../../lib/lifecycle/trigger';
import { retrainScheduleId, syncRetrainSchedules } from '../../../lib/lifecycle/schedule';
import { listLifecycleDecisions, type LifecycleDecisionDoc } from '../../../lib/store/lifecycle-decisions';
import { putModelPolicy } from '../../../lib/store/policies';
import { runs } from '../../../lib/store/runs';
import { modelPolicySchema } from '../../../lib/spec/policy';
import { lifecycleWorkflowId } from '../../../lib/workflow-safe/lifecycle';
import type { LifecycleInput } from '../../../workflows/lifecycle';
import { spawnTestFleet, workflowBundle } from '../harness/env';
import { waitFor } from '../harness/wait';
import { pipelineEnv, penguinsSpec, type PipelineEnv } from '../pipeline/helpers';

const PENGUINS_SHA = 'f204db2c753b0937caac3cb35258562c14f073e4bbc76be24b4c51ce22767a93';
const now = () => new Date().toISOString();

let env: PipelineEnv;
beforeAll(async () => {
  env = await pipelineEnv();
});
afterAll(async () => {
  await env?.close();
});

async function setPolicy(model: string, retrain: Record<string, unknown>) {
  const policy = modelPolicySchema.parse({
    retrain: {
      onDrift: true,
      onData: { dataset: 'penguins', checkEvery: 0 },
      cooldown: 0,
      maxPerDay: 10,
      spec: { ...penguinsSpec({ model }), approval: { required: false }, optimise: { int8: false } },
      ...retrain,
    },
  });
  await putModelPolicy(env.store, model, policy, 'tester');
  return policy;
}

function decisions(model: string, n: number, pred: (d: LifecycleDecisionDoc[]) => boolean = () => true) {
  return waitFor(
    `${n} lifecycle decision(s) of ${model}`,
    async () => {
      const d = (await listLifecycleDecisions(env.store, model)).reverse();
      return d.length >= n && pred(d) ? d : undefined;
    },
    240_000
  );
}

const send = (model: string, t: Parameters<typeof signalRetrainTrigger>[2]) =>
  signalRetrainTrigger(env.client, { model, taskQueue: env.cfg.queues.control }, t);

describe('lifecycle workflow', () => {
  const model = `life-${randomUUID().slice(0, 6)}`;

  it('coalesces two triggers sent at once into one run that records both; the same data then starts none', async () => {
    await setPolicy(model, {});
    await Promise.all([
      send(model, { kind: 'drift', reportId: 'report-1', at: now() }),
      send(model, { kind: 'data', dataset: 'penguins', sha256: PENGUINS_SHA, at: now() }),
    ]);
    const d = await decisions(model, 2, (x) => x.some((e) => e.outcome === 'finished'));
    expect(d.map((e) => e.outcome)).toEqual(['started', 'finished']);
    expect(d[0].triggers.map((t) => t.kind).sort()).toEqual(['data', 'drift']);
    const started = await runs(env.store.db).find({ model }).toArray();
    expect(started).toHaveLength(1);
    expect(started[0]._id).toBe(d[0].runId);
    expect(started[0].status).toBe('succeeded');
    expect(started[0].createdBy).toBe(`lifecycle:${model}`);
    expect(started[0].triggers?.map((t) => t.kind).sort()).toEqual(['data', 'drift']);
    expect(started[0].triggers?.find((t) => t.kind === 'drift')).toMatchObject({ reportId: 'report-1' });

    // The same dataset sha256 again: announced, and found by fingerprinting for a drift trigger.
    await send(model, { kind: 'data', dataset: 'penguins', sha256: PENGUINS_SHA, at: now() });
    const again = await decisions(model, 3);
    expect(again[2]).toMatchObject({ outcome: 'skipped', datasetSha256: PENGUINS_SHA });
    expect(again[2].reason).toMatch(/trained on already; the same data never starts a run/);
    await send(model, { kind: 'drift', reportId: 'report-2', at: now() });
    const fourth = await decisions(model, 4);
    expect(fourth[3]).toMatchObject({ outcome: 'skipped', datasetSha256: PENGUINS_SHA });
    expect(await runs(env.store.db).countDocuments({ model })).toBe(1);
    // What GET /v1/models/{name}/policy and `mlops policy show` list, newest first.
    const shown = await showPolicy({ store: env.store, temporal: { client: async () => env.client } } as never, model);
    expect(shown.decisions.map((x) => x.outcome)).toEqual(['skipped', 'skipped', 'finished', 'started']);
    expect(shown.retrainSchedules).toEqual([]); // the policy has no timed trigger
  });

  it('a retrain schedule fires into the lifecycle and follows policy changes', async () => {
    const policy = await setPolicy(model, { schedule: '7d', catchupWindow: '10m' });
    const sync = await syncRetrainSchedules(env.client, model, policy.retrain, env.cfg.queues.control);
    expect(sync).toEqual([
      { scheduleId: `retrain-${model}`, state: 'created' },
      { scheduleId: `retrain-data-${model}`, state: 'absent' },
    ]);
    const handle = env.client.schedule.getHandle(retrainScheduleId(model, 'schedule'));
    const desc = await handle.describe();
    expect(desc.spec.intervals?.[0].every).toBe(7 * 86_400_000);
    expect(desc.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 600_000 });
    await handle.trigger();
    const d = await decisions(model, 5);
    expect(d[4].triggers).toEqual([expect.objectContaining({ kind: 'schedule', scheduleId: `retrain-${model}` })]);
    expect(d[4].outcome).toBe('skipped'); // the penguins data was trained on by the first run

    const cron = await setPolicy(model, { schedule: '0 3 * * 0' });
    await syncRetrainSchedules(env.client, model, cron.retrain, env.cfg.queues.control);
    expect((await handle.describe()).spec.calendars?.length ?? 0).toBeGreaterThan(0);
    await syncRetrainSchedules(env.client, model, undefined, env.cfg.queues.control);
    await expect(handle.describe()).rejects.toThrow(/not found/i);
  });
  it('the interval data check fingerprints the dataset on the CPU fleet and signals only a change', async () => {
    const policy = await setPolicy(model, { onData: { dataset: 'penguins', checkEvery: '1h' } });
    await syncRetrainSchedules(env.client, model, policy.retrain, env.cfg.queues.control);
    const handle = env.client.schedule.getHandle(retrainScheduleId(model, 'data'));
    await handle.trigger(); // first sight of the data: a change, so a data trigger (then skipped: trained on)
    const d = await decisions(model, 6);
    expect(d[5].triggers).toEqual([
      expect.objectContaining({ kind: 'data', dataset: 'penguins', sha256: PENGUINS_SHA }),
    ]);
    await waitFor(
      'the first tick to end',
      async () => ((await handle.describe()).info.recentActions.length ? true : undefined),
      60_000
    );
    const tick = (await handle.describe()).info.recentActions[0].action.workflow;
    await env.client.workflow.getHandle(tick.workflowId, tick.firstExecutionRunId).result();
    await handle.trigger(); // same sha256: no trigger, so no decision
    await waitFor(
      'the second tick to end',
      async () => ((await handle.describe()).info.recentActions.length >= 2 ? true : undefined),
      60_000
    );
    const second = (await handle.describe()).info.recentActions[1].action.workflow;
    await env.client.workflow.getHandle(second.workflowId, second.firstExecutionRunId).result();
    expect(await listLifecycleDecisions(env.store, model)).toHaveLength(6);
    await syncRetrainSchedules(env.client, model, undefined, env.cfg.queues.control);
  });
});

describe('lifecycle workflow: a run that fails', () => {
  it('leaves its data untrained on, so the next trigger on the same data retrains', async () => {
    const model = `life-fail-${randomUUID().slice(0, 6)}`;
    await setPolicy(model, {
      spec: { ...penguinsSpec({ model, target: 'no_such_column' }), approval: { required: false } },
    });
    const sha256 = randomUUID().replace(/-/g, '').repeat(2);
    const data = () => send(model, { kind: 'data', dataset: 'penguins', sha256, at: now() });
    await data();
    const first = await decisions(model, 2, (x) => x.some((e) => e.outcome === 'finished'));
    expect(first[1].reason).toMatch(/failed: .*no model came out, so a later trigger on the same data retrains/);
    await data();
    const again = await decisions(model, 3);
    expect(again[2]).toMatchObject({ outcome: 'started', datasetSha256: sha256 });
    await decisions(model, 4);
    expect(await runs(env.store.db).countDocuments({ model, status: 'failed' })).toBe(2);
  });
});

describe('lifecycle workflow durability', () => {
  it('survives a SIGKILLed control worker and continues as new with its state', async () => {
    const model = `life-kill-${randomUUID().slice(0, 6)}`; // no policy: every trigger is skipped, fast
    const controlEnv = { TEST_WORKFLOW_BUNDLE: workflowBundle().codePath };
    // Its own queue for the workflow, so only the child worker below (not the test's) runs it.
    const queue = `${env.cfg.queues.control}-kill`;
    let fleet = await spawnTestFleet(
      { ...env.cfg, queues: { ...env.cfg.queues, control: queue } },
      {
        kinds: ['control'],
        env: controlEnv,
      }
    );
    try {
      const input: LifecycleInput = { model, options: { decisionsPerRun: 2, coalesceMs: 300 } };
      const handle = await env.client.workflow.start('modelLifecycle', {
        taskQueue: queue,
        workflowId: lifecycleWorkflowId(model),
        args: [input],
      });
      const firstRunId = handle.firstExecutionRunId;
      const trigger = (n: number) =>
        signalRetrainTrigger(env.client, { model, taskQueue: queue }, { kind: 'drift', reportId: `r${n}`, at: now() });
      await trigger(1);
      await decisions(model, 1);
      await fleet.kill();
      await trigger(2); // sent while no worker runs the workflow
      fleet = await spawnTestFleet(
        { ...env.cfg, queues: { ...env.cfg.queues, control: queue } },
        { kinds: ['control'], env: controlEnv }
      );
      const two = await decisions(model, 2);
      expect(two.map((d) => d.seq)).toEqual([1, 2]);
      // Two decisions -> continue as new; the next decision is numbered on from the carried state.
      await trigger(3);
      const three = await decisions(model, 3);
      expect(three.map((d) => d.seq)).toEqual([1, 2, 3]);
      expect(three[2].triggers[0]).toMatchObject({ reportId: 'r3' });
      const latest = await env.client.workflow.getHandle(lifecycleWorkflowId(model)).describe();
      expect(latest.runId).not.toBe(firstRunId);
      const first = await env.client.workflow.getHandle(lifecycleWorkflowId(model), firstRunId).describe();
      expect(first.status.name).toBe('CONTINUED_AS_NEW');
      expect(three.every((d) => d.outcome === 'skipped' && /no retrain policy/.test(d.reason))).toBe(true);
    } finally {
      await env.client.workflow
        .getHandle(lifecycleWorkflowId(model))
        .terminate('test over')
        .catch(() => undefined);
      await fleet.stop(5_000);
    }
  });
});
