// The API's rules for rollouts, apart from their routes (api/routes/deployments.ts): which
// version may be rolled out, the refusal that names the rollout already running for a model, the
// four-eyes check before an override is vouched for, the audit of each request and override, and
// the view of a deployment record. The
// rollout workflow checks four eyes and the voucher again, so these checks give clear answers
// early; they are not the only guard.
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { vouchOverride } from '../../lib/crypto/approval-voucher';
import { deploySchema, type DeploySpecInput } from '../../lib/spec/deploy';
import { getDeployment, type DeploymentDecisionDoc, type DeploymentDoc } from '../../lib/store/deployment-records';
import { getModel, getModelVersion } from '../../lib/store/models';
import type { Store } from '../../lib/store/db';
import { DEPLOY_STATE, MODEL_NAME } from '../../lib/workflow-safe/search-attributes';
import { FOUR_EYES_ACTIONS, type OverrideAction } from '../../lib/workflow-safe/deploy-override';
import { FAILURE } from '../../lib/workflow-safe/failures';
import type { RolloutInput } from '../../workflows/rollout';
import { overrideUpdate, rolloutQuery, rolloutWorkflowId, type RolloutStatus } from '../../workflows/rollout-messages';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { Caller } from './caller';

export const ROLLOUT_WORKFLOW = 'rollout';
/** Versions that went through approval (or served before): only these may be rolled out. */
const DEPLOYABLE = ['approved', 'promoted'];

export interface StartDeployment {
  model: string;
  version: number;
  deploy?: DeploySpecInput;
  requestedBy: string;
  controlQueue: string;
}

/** Starts the model's rollout; a running one is refused with a 409 that names it. */
export async function startDeployment(store: Store, client: Client, s: StartDeployment): Promise<RolloutInput> {
  const v = await getModelVersion(store, s.model, s.version);
  if (!v) {
    const m = await getModel(store, s.model);
    throw problems.notFound(
      m ? `Model ${s.model} has no version ${s.version} (latest is ${m.latestVersion}).` : `No model ${s.model}.`
    );
  }
  if (!DEPLOYABLE.includes(v.status)) {
    throw problems.conflict(
      `Model ${s.model} v${s.version} is ${v.status}, not approved: only approved (or formerly promoted) versions can be rolled out.`,
      { extra: { versionStatus: v.status } }
    );
  }
  const input: RolloutInput = {
    deploymentId: `${s.model}-v${s.version}-${randomBytes(4).toString('hex')}`,
    model: s.model,
    version: s.version,
    deploy: deploySchema.parse(s.deploy ?? {}),
    requestedBy: s.requestedBy,
    runId: null,
    queues: { control: s.controlQueue },
  };
  try {
    await client.workflow.start(ROLLOUT_WORKFLOW, {
      workflowId: rolloutWorkflowId(s.model),
      taskQueue: s.controlQueue,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: MODEL_NAME, value: s.model },
        { key: DEPLOY_STATE, value: 'progressing' },
      ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = await client.workflow
      .getHandle(rolloutWorkflowId(s.model))
      .query(rolloutQuery)
      .catch(() => null);
    const which = running ? `deployment ${running.deploymentId} (v${running.version}, ${running.state})` : 'a rollout';
    throw problems.conflict(
      `Model ${s.model} has ${which} running; one rollout per model at a time. Wait for it, or abort it with ` +
        `mlops deploy abort ${running?.deploymentId ?? '<id>'}.`,
      { extra: { running: running?.deploymentId ?? null } }
    );
  }
  // The record is written by the workflow's first activity: wait for it (briefly), so the id the
  // caller gets back can be read and overridden at once.
  for (const until = Date.now() + 10_000; Date.now() < until;) {
    if (await getDeployment(store, input.deploymentId)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return input;
}

/** Starts a rollout for the caller (the requester, for four eyes) and audits the request. */
export async function requestDeployment(
  ctx: ApiContext,
  caller: Caller,
  body: { model: string; version: number; deploy?: DeploySpecInput }
): Promise<RolloutInput> {
  const input = await startDeployment(ctx.store, await ctx.temporal.client(), {
    ...body,
    requestedBy: caller.who.subject,
    controlQueue: ctx.cfg.queues.control,
  });
  await caller.audit({
    action: 'deployment.request',
    object: { type: 'deployment', id: input.deploymentId },
    details: { model: input.model, version: input.version, strategy: input.deploy.strategy },
  });
  return input;
}

/** A human override of a running rollout: refused (and audited as denied) or sent and audited. */
export async function overrideDeployment(
  ctx: ApiContext,
  caller: Caller,
  input: { id: string; action: OverrideAction; reason: string }
): Promise<void> {
  const { id, action, reason } = input;
  const actor = caller.who.subject;
  const d = await mustGetDeployment(ctx.store, id);
  const entry = { action: `deployment.${action}`, object: { type: 'deployment', id } };
  const problem = overrideProblem(d, action, actor);
  if (problem) {
    await caller.audit({ ...entry, outcome: 'denied', details: { reason: problem } });
    throw d.endedAt ? problems.conflict(problem) : problems.forbidden(problem, { extra: { reason: 'four-eyes' } });
  }
  await sendOverride(ctx.store, await ctx.temporal.client(), d, { action, actor, reason });
  await caller.audit({ ...entry, details: { reason, model: d.model } });
}

export async function mustGetDeployment(store: Store, id: string): Promise<DeploymentDoc> {
  const d = await getDeployment(store, id);
  if (!d) throw problems.notFound(`No deployment ${id}. List deployments with GET /v1/deployments.`);
  return d;
}

/** Why the caller may not take this override here (four eyes, ended), or null. */
function overrideProblem(d: DeploymentDoc, action: OverrideAction, actor: string): string | null {
  if (d.endedAt) return `Deployment ${d._id} has ended (${d.state}); nothing to ${action}.`;
  if (FOUR_EYES_ACTIONS.includes(action) && d.requestedBy === actor) {
    return `Four eyes: ${actor} requested deployment ${d._id} and may not ${action} it. Ask another approver.`;
  }
  return null;
}

/** Vouches for the override and sends it; the workflow's refusal becomes a 409 with its reason. */
async function sendOverride(
  store: Store,
  client: Client,
  d: DeploymentDoc,
  o: { action: OverrideAction; actor: string; reason: string }
): Promise<void> {
  if (!store.keyring) throw problems.unavailable('The API holds no keyring, so it cannot vouch for the override.');
  const vouched = vouchOverride(store.keyring, d._id, o);
  try {
    await client.workflow.getHandle(d.workflowId).executeUpdate(overrideUpdate, { args: [vouched] });
  } catch (err) {
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === FAILURE.OverrideRefused) {
      throw problems.conflict(`Deployment ${d._id}: ${cause.message}.`, { extra: { reason: 'refused-by-workflow' } });
    }
    throw err;
  }
}

/** The live state of a running rollout, when it is this deployment (null when ended or unreachable). */
export async function liveRollout(client: Client, d: DeploymentDoc): Promise<RolloutStatus | null> {
  if (d.endedAt) return null;
  const s = await client.workflow
    .getHandle(d.workflowId)
    .query(rolloutQuery)
    .catch(() => null);
  return s && s.deploymentId === d._id ? s : null;
}

export function deploymentView(d: DeploymentDoc, decisions?: DeploymentDecisionDoc[], live?: RolloutStatus | null) {
  const { _id, ...rest } = d;
  return {
    id: _id,
    ...rest,
    ...(decisions ? { decisions: decisions.map((x) => ({ ...x, _id: undefined, deploymentId: undefined })) } : {}),
    ...(live !== undefined ? { live } : {}),
  };
}
