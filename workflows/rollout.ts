// One rollout of one model version: canary, blue-green or shadow (lib/spec/deploy.ts), with
// metric gates, human overrides and automatic rollback of traffic and registry.
//   canary      warm load -> for each step < 100: split, bake (gates every checkEvery; a failure
//               rolls back at once, a pass counts at the end of the bake) -> 100%: `production`
//   blue-green  warm load -> 100% at once and `production` moves -> rollbackWindow of gates
//               (a failure puts traffic and `production` back) -> the old version is let go
//   shadow      mirrored traffic -> gates after each bake -> a human promotes or aborts
// Inconclusive windows (too few requests) wait past the bake for `inconclusiveAfter`, then pause
// for a human: nothing is promoted on silence. Deterministic: every effect is an activity on the
// control queue, each recorded (decision + audit) with the numbers it used.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { ControlActivities } from '../activities';
import type { GateEvaluation, RecordInput } from '../activities/rollout';
import type { DeploySpec } from '../lib/spec/deploy';
import type { DeploymentState, DeploymentStep } from '../lib/store/deployment-records';
import { FOUR_EYES_ACTIONS, OVERRIDE_ACTIONS } from '../lib/workflow-safe/deploy-override';
import { FAILURE, retryPolicy } from '../lib/workflow-safe/failures';
import { DEPLOYMENT_ENDED } from '../lib/workflow-safe/statuses';
import { DEPLOY_STATE, MODEL_NAME } from '../lib/workflow-safe/search-attributes';
import {
  overrideUpdate,
  rolloutQuery,
  type OverrideAck,
  type OverrideRequest,
  type RolloutStatus,
  type VouchedOverride,
} from './rollout-messages';

export interface RolloutInput {
  deploymentId: string;
  model: string;
  version: number;
  /** The validated deploy block (durations in ms). */
  deploy: DeploySpec;
  /** Who asked for it; four eyes: they may not resume or promote it. */
  requestedBy: string;
  /** The pipeline run it came from (null when started through POST /v1/deployments). */
  runId: string | null;
  queues: { control: string };
  options?: { retryInitialInterval?: Duration };
}

export interface RolloutResult {
  deploymentId: string;
  state: DeploymentState;
  model: string;
  version: number;
  stable: number | null;
  reason: string | null;
}

type Outcome =
  | { kind: 'pass'; gate: GateEvaluation }
  | { kind: 'fail'; gate: GateEvaluation }
  | { kind: 'resume' }
  | { kind: 'promote' | 'abort'; by: string; reason: string };

/** Why an override cannot be taken now, or null (shared by the update's validator and handler). */
function overrideRefusal(o: VouchedOverride | undefined, requester: string, state: DeploymentState): string | null {
  if (DEPLOYMENT_ENDED.includes(state)) return `the deployment has ended (${state})`;
  if (!o || !(OVERRIDE_ACTIONS as readonly string[]).includes(o.action)) {
    return `action must be one of ${OVERRIDE_ACTIONS.join(', ')}`;
  }
  if (typeof o.actor !== 'string' || !o.actor) return 'actor is missing';
  if (typeof o.reason !== 'string' || !o.reason.trim()) return 'a reason is required';
  if (FOUR_EYES_ACTIONS.includes(o.action) && o.actor === requester) {
    return `four eyes: ${requester} requested this rollout and may not ${o.action} it`;
  }
  if (o.action === 'resume' && state !== 'paused') return 'only a paused deployment can be resumed';
  if (o.action === 'pause' && state === 'paused') return 'the deployment is paused already';
  return null;
}

function overrideRefused(message: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `Override refused: ${message}`,
    type: FAILURE.OverrideRefused,
    nonRetryable: true,
  });
}

export async function rollout(input: RolloutInput): Promise<RolloutResult> {
  const cfg = input.deploy;
  const { deploymentId, model, version } = input;
  const first = input.options?.retryInitialInterval ?? '1 second';
  const acts = proxyActivities<ControlActivities>({
    taskQueue: input.queues.control,
    scheduleToStartTimeout: '1 hour',
    startToCloseTimeout: '1 minute',
    retry: retryPolicy(first, 10, '30 seconds'),
  });
  const waits = proxyActivities<ControlActivities>({
    taskQueue: input.queues.control,
    startToCloseTimeout: cfg.serverTimeout + 60_000,
    heartbeatTimeout: '30 seconds',
    retry: retryPolicy(first, 10, '30 seconds'),
  });
  const local = proxyLocalActivities<ControlActivities>({
    startToCloseTimeout: '30 seconds',
    retry: retryPolicy(first, 5, '10 seconds'),
  });

  const status: RolloutStatus = {
    deploymentId,
    model,
    version,
    stable: null,
    strategy: cfg.strategy,
    state: 'progressing',
    weight: 0,
    step: null,
    steps: cfg.strategy === 'canary' ? cfg.steps : [100],
    lastGate: null,
    requestedBy: input.requestedBy,
    reason: null,
  };
  const inbox: OverrideRequest[] = [];
  const steps: DeploymentStep[] = [];
  let seq = 0;

  setHandler(rolloutQuery, () => status);
  setHandler(
    overrideUpdate,
    async (o: VouchedOverride): Promise<OverrideAck> => {
      const verdict = await local.verifyOverride({ deploymentId, override: o });
      if (!verdict.ok) throw overrideRefused(`the override is not vouched for by the API (${verdict.reason})`);
      const late = overrideRefusal(o, input.requestedBy, status.state);
      if (late) throw overrideRefused(late);
      inbox.push({ action: o.action, actor: o.actor, reason: o.reason.slice(0, 2000) });
      return { deploymentId, action: o.action, actor: o.actor };
    },
    {
      validator: (o: VouchedOverride) => {
        const refusal = overrideRefusal(o, input.requestedBy, status.state);
        if (refusal) throw overrideRefused(refusal);
      },
    }
  );

  const publish = () =>
    upsertSearchAttributes([
      { key: MODEL_NAME, value: model },
      { key: DEPLOY_STATE, value: status.state },
    ]);
  const record = (
    kind: RecordInput['kind'],
    outcome: string,
    extra: {
      by?: string;
      reason?: string | null;
      metrics?: GateEvaluation;
      patch?: RecordInput['patch'];
      weight?: number;
    } = {}
  ) =>
    acts.recordRollout({
      deploymentId,
      model,
      seq: ++seq,
      kind,
      outcome,
      by: extra.by ?? 'rollout',
      reason: extra.reason ?? null,
      step: status.step,
      weight: extra.weight ?? status.weight,
      metrics: extra.metrics,
      patch: extra.patch,
    });
  const setState = (state: DeploymentState, reason: string | null = status.reason) => {
    status.state = state;
    status.reason = reason;
    publish();
  };
  const endStep = (outcome: DeploymentStep['outcome']) => {
    const s = steps[steps.length - 1];
    if (s && !s.endedAt) Object.assign(s, { endedAt: new Date(), outcome });
  };

  /** Writes the split; with a candidate, waits until every live server loaded it and applied the split. */
  const applySplit = async (stable: number, candidate: number | null, weight: number, mode: 'split' | 'shadow') => {
    const s = await acts.setSplit({ deploymentId, seq: ++seq, model, stable, candidate, weight, mode });
    status.weight = candidate === null ? 0 : mode === 'shadow' ? 0 : weight;
    return waits.awaitServers({ model, version: candidate, revision: s.revision, timeoutMs: cfg.serverTimeout });
  };

  /** Paused: waits for a human (resume, promote or abort). */
  const awaitHuman = async (why: string): Promise<Outcome> => {
    setState('paused', why);
    for (;;) {
      await condition(() => inbox.length > 0);
      const o = inbox.shift()!;
      if (o.action === 'resume') {
        await record('override', 'resume', { by: o.actor, reason: o.reason, patch: { state: 'progressing' } });
        setState('progressing', null);
        return { kind: 'resume' };
      }
      if (o.action === 'promote' || o.action === 'abort') return { kind: o.action, by: o.actor, reason: o.reason };
    }
  };

  const takeOverride = async (o: OverrideRequest): Promise<Outcome> => {
    if (o.action === 'pause') {
      await record('override', 'pause', { by: o.actor, reason: o.reason, patch: { state: 'paused' } });
      return awaitHuman(`paused by ${o.actor}: ${o.reason}`);
    }
    if (o.action === 'promote' || o.action === 'abort') return { kind: o.action, by: o.actor, reason: o.reason };
    return { kind: 'resume' };
  };

  /**
   * One window: gates every checkEvery until the bake ends (failure at once), then pass, or wait on
   * while inconclusive, pausing for a human past the deadline. Overrides are taken between checks.
   */
  const bake = async (stable: number, bakeMs: number, opts: { shadow: boolean; compareShift: boolean }) => {
    let since = Date.now();
    let bakeEnd = since + bakeMs;
    let deadline = bakeEnd + cfg.inconclusiveAfter;
    for (;;) {
      const now = Date.now();
      const wait = Math.max(1, Math.min(cfg.checkEvery, now < bakeEnd ? bakeEnd - now : cfg.checkEvery));
      await condition(() => inbox.length > 0, wait);
      const o = inbox.shift();
      if (o) {
        const r = await takeOverride(o);
        if (r.kind !== 'resume') return r;
        since = Date.now(); // a fresh window after a pause
        bakeEnd = since + bakeMs;
        deadline = bakeEnd + cfg.inconclusiveAfter;
        continue;
      }
      const gate = await acts.evaluateGate({ deploymentId, model, version, stable, since, gates: cfg.gates, ...opts });
      status.lastGate = gate;
      if (gate.outcome === 'fail') return { kind: 'fail', gate } as const;
      if (Date.now() < bakeEnd) continue;
      if (gate.outcome === 'pass') return { kind: 'pass', gate } as const;
      if (Date.now() >= deadline) {
        const why = `inconclusive past the deadline: ${gate.reasons.join('; ')}`;
        await record('pause', 'inconclusive', { reason: why, metrics: gate, patch: { state: 'paused' } });
        const r = await awaitHuman(why);
        if (r.kind !== 'resume') return r;
        deadline = Date.now() + cfg.inconclusiveAfter; // the requests counted so far still count
      }
    }
  };

  let stable: number | null = null;
  let begun = false;
  let productionMoved = false;

  const end = async (state: DeploymentState, reason: string | null): Promise<RolloutResult> => {
    setState(state, reason);
    return { deploymentId, state, model, version, stable, reason };
  };

  /** Traffic to 100% stable first (what users feel), then the registry, then the record. */
  const rollBack = async (
    state: 'rolled_back' | 'aborted' | 'failed',
    by: string,
    reason: string,
    gate?: GateEvaluation
  ): Promise<RolloutResult> => {
    const weight = status.weight;
    if (stable !== null) await applySplit(stable, null, 0, 'split');
    await acts.rollbackRegistry({ deploymentId, model, version, restore: productionMoved ? stable : null });
    endStep(state === 'aborted' ? 'aborted' : 'fail');
    await record('rollback', state, {
      by,
      reason,
      weight,
      metrics: gate,
      patch: { state, reason, steps, weight: 0, ended: true },
    });
    return end(state, reason);
  };

  const promote = async (by: string, reason: string): Promise<RolloutResult> => {
    if (stable !== null) await applySplit(stable, version, 100, 'split');
    status.weight = 100;
    if (!productionMoved) {
      await acts.promoteCandidate({
        deploymentId,
        model,
        version,
        expected: stable,
        approvedBy: by === 'rollout' ? null : by,
      });
      productionMoved = true;
    } else {
      await acts.clearCandidate({ deploymentId, model, version });
    }
    // The split is no longer needed: `production` names the candidate now.
    await applySplit(version, null, 0, 'split');
    endStep('promoted');
    await record('promote', 'succeeded', {
      by,
      reason,
      patch: { state: 'succeeded', reason, steps, weight: 100, ended: true },
    });
    return end('succeeded', reason);
  };

  /** Outcomes that end the rollout, else null (pass: go on). */
  const settle = (r: Outcome): Promise<RolloutResult> | null => {
    if (r.kind === 'fail') return rollBack('rolled_back', 'rollout', r.gate.reasons.join('; '), r.gate);
    if (r.kind === 'abort') return rollBack('aborted', r.by, r.reason);
    if (r.kind === 'promote') return promote(r.by, r.reason);
    return null;
  };

  const startStep = async (index: number | null, weight: number, label: string) => {
    status.step = index;
    steps.push({ index: steps.length, weight, startedAt: new Date(), endedAt: null, outcome: null });
    await record('step', label, { patch: { steps, weight: status.weight } });
  };

  /** Loads the candidate warm (weight 0) so no caller meets a version that is not loaded. */
  const warm = async (s: number, mode: 'split' | 'shadow'): Promise<RolloutResult | null> => {
    const servers = await applySplit(s, version, 0, mode);
    if (servers.ready) return null;
    return rollBack(
      'failed',
      'rollout',
      `inference servers ${servers.behind.join(', ')} did not load v${version} within ${cfg.serverTimeout} ms`
    );
  };

  publish();
  try {
    ({ stable } = await acts.beginRollout({
      deploymentId,
      model,
      version,
      strategy: cfg.strategy,
      config: cfg,
      requestedBy: input.requestedBy,
      runId: input.runId,
      workflowId: workflowInfo().workflowId,
    }));
    begun = true;
    status.stable = stable;
    await record('start', cfg.strategy, { by: input.requestedBy, reason: `stable v${stable ?? 'none'}` });
    if (stable === null) {
      // Nothing serves this model yet, so there is nothing to compare with or to fall back to.
      return await promote('rollout', `first version of '${model}': no production version to compare with`);
    }
    const s = stable;

    if (cfg.strategy === 'canary') {
      const failed = await warm(s, 'split');
      if (failed) return failed;
      for (let i = 0; i < cfg.steps.length; i++) {
        const weight = cfg.steps[i]!;
        if (weight === 100) return await promote('rollout', `every step passed its gates (${cfg.steps.join(', ')})`);
        await applySplit(s, version, weight, 'split');
        await startStep(i, weight, `weight ${weight}`);
        const r = await bake(s, cfg.bake, { shadow: false, compareShift: true });
        const done = settle(r);
        if (done) return await done;
        endStep('pass');
        await record('gate', 'pass', { metrics: (r as { gate: GateEvaluation }).gate, patch: { steps } });
      }
      return await promote('rollout', 'every step passed its gates');
    }

    if (cfg.strategy === 'blue-green') {
      const failed = await warm(s, 'split');
      if (failed) return failed;
      await applySplit(s, version, 100, 'split');
      await acts.promoteCandidate({ deploymentId, model, version, expected: s, approvedBy: null, keepCandidate: true });
      productionMoved = true;
      await startStep(0, 100, 'switch');
      const r = await bake(s, cfg.rollbackWindow, { shadow: false, compareShift: false });
      const done = r.kind === 'promote' ? null : settle(r);
      if (done) return await done;
      return await promote(r.kind === 'promote' ? r.by : 'rollout', 'the rollback window passed its gates');
    }

    // shadow
    const failed = await warm(s, 'shadow');
    if (failed) return failed;
    await startStep(0, 0, 'shadow');
    for (;;) {
      const r = await bake(s, cfg.bake, { shadow: true, compareShift: true });
      const done = settle(r);
      if (done) return await done;
      if (r.kind === 'pass') {
        await record('gate', 'pass', { metrics: r.gate });
        const next = await awaitHuman('the shadow passed its gates; promotion needs a human (promote or abort)');
        const decided = settle(next);
        if (decided) return await decided;
      }
    }
  } catch (err) {
    if (!begun) throw err;
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => rollBack('aborted', 'rollout', 'the rollout was cancelled'));
      throw err;
    }
    const message = (err as Error)?.message ?? String(err);
    await CancellationScope.nonCancellable(() => rollBack('failed', 'rollout', message));
    throw err;
  }
}
