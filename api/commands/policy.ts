// Setting and reading a model's lifecycle policy, apart from HTTP (api/routes/policy.ts calls
// these): validate (each trigger it enables must be able to fire), store, audit, then make the
// schedules match. The one place schedules follow a policy write is syncSchedules() below.
import type { Client } from '@temporalio/client';
import type { Config } from '../../lib/config';
import { describeRetrainSchedules, syncRetrainSchedules } from '../../lib/lifecycle/schedule';
import { parseHookSecrets } from '../../lib/lifecycle/webhook';
import { syncMonitorSchedule } from '../../lib/monitoring/schedule';
import type { ModelPolicy } from '../../lib/spec/policy';
import { getModelPolicy, putModelPolicy, type ModelPolicyDoc } from '../../lib/store/policies';
import { listLifecycleDecisions } from '../../lib/store/lifecycle-decisions';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { Caller } from './caller';

export function policyView(doc: ModelPolicyDoc) {
  return {
    model: doc._id,
    policy: doc.policy,
    revision: doc.revision,
    updatedAt: doc.updatedAt,
    updatedBy: doc.updatedBy,
  };
}

/** A policy retrains only its own model (a 400 otherwise). */
export function checkPolicyModel(model: string, policy: ModelPolicy): void {
  const spec = policy.retrain?.spec;
  if (spec && spec.model !== model) {
    throw problems.badRequest(
      `retrain.spec.model is '${spec.model}' but the policy is for '${model}'; a model's policy retrains that model.`
    );
  }
}

/**
 * A trigger the policy enables but that can never fire is refused (a 400 saying what to add),
 * not accepted silently: a commit trigger needs its repository's webhook secret, and a drift
 * trigger needs the monitoring that measures drift.
 */
export function checkPolicyTriggers(cfg: Pick<Config, 'MLOPS_GIT_HOOK_SECRETS'>, policy: ModelPolicy): void {
  const retrain = policy.retrain;
  const repo = retrain?.onCommit?.repository;
  if (repo && !parseHookSecrets(cfg.MLOPS_GIT_HOOK_SECRETS).has(repo)) {
    throw problems.badRequest(
      `retrain.onCommit.repository '${repo}' has no webhook secret, so its pushes are refused: add '${repo}=<secret>' to MLOPS_GIT_HOOK_SECRETS on the API (docs/retraining.md), or remove retrain.onCommit.`
    );
  }
  if (retrain?.onDrift && !policy.monitor) {
    throw problems.badRequest(
      'retrain.onDrift is true but the policy has no monitor section, so drift is never measured: add "monitor": {"every": "1h", "window": "24h"} (docs/monitoring.md), or set retrain.onDrift to false.'
    );
  }
}

/**
 * Makes every schedule of the model follow its policy: retraining's and monitoring's, so one
 * write moves both (a policy whose `monitor` is never scheduled would never report drift).
 */
export async function syncSchedules(ctx: ApiContext, client: Client, model: string, policy: ModelPolicy) {
  const retrain = await syncRetrainSchedules(client, model, policy.retrain, ctx.cfg.queues.control);
  const monitor = await syncMonitorSchedule(client, model, policy.monitor, ctx.cfg.queues);
  return { retrain, monitor };
}

export async function setPolicy(ctx: ApiContext, caller: Caller, input: { model: string; policy: ModelPolicy }) {
  const { policy } = input;
  checkPolicyModel(input.model, policy);
  checkPolicyTriggers(ctx.cfg, policy);
  const client = await ctx.temporal.client(); // before the write: no stored policy without its schedules
  const doc = await putModelPolicy(ctx.store, input.model, policy, caller.who.subject);
  const schedules = await syncSchedules(ctx, client, input.model, policy);
  await caller.audit({
    action: 'model.policy.set',
    object: { type: 'model', id: input.model },
    details: {
      revision: doc.revision,
      retrain: policy.retrain
        ? {
            schedule: policy.retrain.schedule ?? null,
            onData: policy.retrain.onData?.dataset ?? null,
            onCommit: policy.retrain.onCommit ?? null,
            onDrift: policy.retrain.onDrift,
            cooldown: policy.retrain.cooldown,
            maxPerDay: policy.retrain.maxPerDay,
          }
        : null,
      monitor: policy.monitor ? { every: policy.monitor.every, window: policy.monitor.window } : null,
    },
  });
  return { ...policyView(doc), schedules };
}

/**
 * The policy, the lifecycle workflow's latest decisions (why the model did or did not retrain)
 * and its retrain schedules' state (null without Temporal: the stored policy still answers).
 */
export async function showPolicy(ctx: ApiContext, model: string) {
  const doc = await getModelPolicy(ctx.store, model);
  if (!doc) {
    throw problems.notFound(`Model '${model}' has no policy; set one with PUT /v1/models/${model}/policy.`);
  }
  const decisions = (await listLifecycleDecisions(ctx.store, model, 20)).map((d) => ({
    seq: d.seq,
    at: d.at,
    outcome: d.outcome,
    reason: d.reason,
    triggers: d.triggers,
    ...(d.runId ? { runId: d.runId } : {}),
    ...(d.datasetSha256 ? { datasetSha256: d.datasetSha256 } : {}),
  }));
  const retrainSchedules = await ctx.temporal
    .client()
    .then((c) => describeRetrainSchedules(c, model))
    .catch(() => null);
  return { ...policyView(doc), decisions, retrainSchedules };
}
