/** @jest-environment ./test/unit/ml/ort-environment.js */
// The rollout workflow on real Temporal and the real MongoDB wire, with the real control
// activities: the gates read serving_stats that a feeder writes the way inference servers do, so
// each test shapes what the candidate looks like. A good candidate goes 20 -> 50 -> 100 and becomes
// production; bad ones (errors, slow, different predictions) are rolled back at the first step
// with the aliases restored and an audit entry; silence pauses for a human; overrides are vouched
// for and four-eyed; blue-green moves production at the switch and puts it back on a failure.
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { audit } from '../../../lib/store/audit';
import { getDeployment, listDeploymentDecisions } from '../../../lib/store/deployment-records';
import { trafficSplits } from '../../../lib/store/deployments';
import { getModel } from '../../../lib/store/models';
import { overrideUpdate, rolloutQuery } from '../../../workflows/rollout-messages';
import { waitFor } from '../harness/wait';
import {
  fastDeploy,
  feedStats,
  override,
  registeredModel,
  rolloutEnv,
  startRollout,
  waitForState,
  type RolloutEnv,
} from './helpers';

let env: RolloutEnv;
beforeAll(async () => {
  env = await rolloutEnv();
});
afterAll(async () => {
  await env?.close();
});

const good = { requests: 10, latencyMs: 5, predictions: { a: 6, b: 4 } };

/** The workflow's reason for refusing an update (the client wraps it in WorkflowUpdateFailedError). */
async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return ((err as Error).cause as Error).message;
}

async function aliases(model: string) {
  const m = await getModel(env.store, model);
  return { production: m?.aliases.production?.version ?? null, candidate: m?.aliases.candidate?.version ?? null };
}

async function auditActions(deploymentId: string): Promise<string[]> {
  const entries = await audit(env.store.db).find({ 'object.id': deploymentId }).toArray();
  return entries.map((e) => e.action);
}

describe('canary', () => {
  it('takes a good candidate through every step into production, recording why each step passed', async () => {
    const model = await registeredModel(env.store);
    const feed = feedStats(env.store, model, { 1: good, 2: good });
    try {
      const handle = await startRollout(env, model, fastDeploy());
      const result = await handle.result();
      expect(result).toMatchObject({ state: 'succeeded', stable: 1, version: 2 });
      const m = await getModel(env.store, model);
      expect(m?.aliases.production).toMatchObject({ version: 2, previous: { version: 1 } });
      expect(m?.aliases.candidate).toBeUndefined();
      const split = await trafficSplits(env.store.db).findOne({ _id: model });
      expect(split).toMatchObject({ stable: 2, candidate: null });
      const decisions = await listDeploymentDecisions(env.store, result.deploymentId);
      const gates = decisions.filter((d) => d.kind === 'gate');
      expect(gates.map((g) => [g.outcome, g.weight])).toEqual([
        ['pass', 20],
        ['pass', 50],
      ]);
      expect(gates[0]!.metrics).toMatchObject({ outcome: 'pass', shift: 0, candidate: { errors: 0 } });
      expect(gates[0]!.metrics!.candidate.requests).toBeGreaterThanOrEqual(20);
      const doc = await getDeployment(env.store, result.deploymentId);
      expect(doc).toMatchObject({ state: 'succeeded', weight: 100 });
      expect(doc!.steps.map((s) => [s.weight, s.outcome])).toEqual([
        [20, 'pass'],
        [50, 'pass'],
      ]);
      expect(await auditActions(result.deploymentId)).toEqual(
        expect.arrayContaining(['deployment.start', 'deployment.step', 'deployment.gate', 'deployment.promote'])
      );
    } finally {
      await feed.stop();
    }
  });

  it.each([
    ['errors on some inputs', { ...good, errors: 3 }, /error rate/],
    ['is slower (injected delay)', { ...good, latencyMs: 400 }, /p99 500 ms exceeds maxP99Ms 100/],
    ['predicts differently', { ...good, predictions: { a: 1, b: 1, c: 8 } }, /prediction shift/],
  ])('rolls back a candidate that %s at the first step, aliases restored and audited', async (_what, bad, why) => {
    const model = await registeredModel(env.store);
    const feed = feedStats(env.store, model, { 1: good, 2: bad });
    try {
      const handle = await startRollout(env, model, fastDeploy());
      const result = await handle.result();
      expect(result.state).toBe('rolled_back');
      expect(result.reason).toMatch(why);
      expect(await aliases(model)).toEqual({ production: 1, candidate: null });
      expect(await trafficSplits(env.store.db).findOne({ _id: model })).toMatchObject({ stable: 1, candidate: null });
      const decisions = await listDeploymentDecisions(env.store, result.deploymentId);
      const rollback = decisions.find((d) => d.kind === 'rollback')!;
      expect(rollback).toMatchObject({ outcome: 'rolled_back', weight: 20, by: 'rollout' });
      expect(rollback.metrics?.outcome).toBe('fail');
      expect(decisions.filter((d) => d.kind === 'gate')).toEqual([]); // no step passed
      expect(await auditActions(result.deploymentId)).toContain('deployment.rollback');
    } finally {
      await feed.stop();
    }
  });

  it('refuses a second rollout of the same model while one runs, naming it', async () => {
    const model = await registeredModel(env.store, 3);
    const first = await startRollout(env, model, fastDeploy({ bake: '1m' }));
    await expect(startRollout(env, model, fastDeploy(), { version: 3 })).rejects.toBeInstanceOf(
      WorkflowExecutionAlreadyStartedError
    );
    await override(env, first, 'abort', 'requester', 'test over');
    expect((await first.result()).state).toBe('aborted');
  });
});

describe('low traffic and human overrides', () => {
  it('stays inconclusive without traffic, pauses past the deadline, and never promotes on silence', async () => {
    const model = await registeredModel(env.store);
    const handle = await startRollout(env, model, fastDeploy({ inconclusiveAfter: '1s' }));
    const paused = await waitForState(handle, 'paused');
    expect(paused.reason).toMatch(/inconclusive past the deadline: 0 candidate requests, fewer than minRequests 20/);
    expect(paused.weight).toBe(20);
    expect(await aliases(model)).toEqual({ production: 1, candidate: 2 });
    // Four eyes: the requester may not resume or promote; another approver may.
    expect(await refusal(override(env, handle, 'promote', 'requester'))).toMatch(/four eyes/);
    await override(env, handle, 'promote', 'approver-2', 'checked by hand');
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'succeeded' });
    expect(await aliases(model)).toEqual({ production: 2, candidate: null });
    const decisions = await listDeploymentDecisions(env.store, result.deploymentId);
    expect(decisions.find((d) => d.kind === 'pause')).toMatchObject({ outcome: 'inconclusive', by: 'rollout' });
    expect(decisions.at(-1)).toMatchObject({ kind: 'promote', by: 'approver-2', reason: 'checked by hand' });
    expect((await getModel(env.store, model))?.aliases.production?.by).toMatch(/promoted by approver-2/);
  });

  it('pauses and resumes on request, and abort rolls back leaving production unchanged', async () => {
    const model = await registeredModel(env.store);
    const feed = feedStats(env.store, model, { 1: good, 2: good });
    try {
      const handle = await startRollout(env, model, fastDeploy({ bake: '3s' }));
      await waitFor('weight 20', async () => (await handle.query(rolloutQuery)).weight === 20);
      await override(env, handle, 'pause', 'requester', 'looking at the logs');
      await waitForState(handle, 'paused');
      expect(await refusal(override(env, handle, 'resume', 'requester'))).toMatch(/four eyes/);
      await override(env, handle, 'resume', 'approver-2', 'logs fine');
      await waitForState(handle, 'progressing');
      await override(env, handle, 'abort', 'requester', 'changed my mind');
      const result = await handle.result();
      expect(result).toMatchObject({ state: 'aborted', reason: 'changed my mind' });
      expect(await aliases(model)).toEqual({ production: 1, candidate: null });
      const kinds = (await listDeploymentDecisions(env.store, result.deploymentId)).map((d) => [d.kind, d.outcome]);
      expect(kinds).toEqual(
        expect.arrayContaining([
          ['override', 'pause'],
          ['override', 'resume'],
          ['rollback', 'aborted'],
        ])
      );
    } finally {
      await feed.stop();
    }
  });

  it('refuses an override the API did not vouch for, and audits it', async () => {
    const model = await registeredModel(env.store);
    const handle = await startRollout(env, model, fastDeploy({ bake: '1m' }));
    const s = await handle.query(rolloutQuery);
    const forged = {
      action: 'promote' as const,
      actor: 'mallory',
      reason: 'trust me',
      at: Date.now(),
      signature: { keyId: 'k', value: 'AAAA' },
    };
    expect(await refusal(handle.executeUpdate(overrideUpdate, { args: [forged as never] }))).toMatch(/not vouched for/);
    const denied = await audit(env.store.db).findOne({ 'object.id': s.deploymentId, outcome: 'denied' });
    expect(denied?.details).toMatchObject({ claimedActor: 'mallory' });
    await override(env, handle, 'abort', 'requester', 'done');
    expect((await handle.result()).state).toBe('aborted');
    expect(await aliases(model)).toEqual({ production: 1, candidate: null });
  });
});

describe('blue-green', () => {
  it('switches production at once and puts it back when a gate fails inside the rollback window', async () => {
    const model = await registeredModel(env.store);
    const feed = feedStats(env.store, model, { 2: { ...good, errors: 5 } });
    try {
      const handle = await startRollout(env, model, fastDeploy({ strategy: 'blue-green', rollbackWindow: '20s' }));
      const result = await handle.result();
      expect(result.state).toBe('rolled_back');
      expect(await aliases(model)).toEqual({ production: 1, candidate: null });
      const moves = (await getModel(env.store, model))!.aliases.production!;
      expect(moves).toMatchObject({ version: 1, previous: { version: 2 } }); // it had moved, and came back
      expect(await trafficSplits(env.store.db).findOne({ _id: model })).toMatchObject({ stable: 1, candidate: null });
    } finally {
      await feed.stop();
    }
  });

  it('keeps the new version once the rollback window passes its gates', async () => {
    const model = await registeredModel(env.store);
    const feed = feedStats(env.store, model, { 2: good });
    try {
      const handle = await startRollout(env, model, fastDeploy({ strategy: 'blue-green' }));
      expect((await handle.result()).state).toBe('succeeded');
      expect(await aliases(model)).toEqual({ production: 2, candidate: null });
    } finally {
      await feed.stop();
    }
  });
});
