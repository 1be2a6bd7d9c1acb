// Control queue: the rollout workflow's side effects. Starting a deployment (its record and the
// `candidate` alias), writing the traffic split, waiting for the inference servers to apply it,
// the gate decision over a step's window, recording each step and decision (with an audit entry),
// and the registry moves of a promotion or a rollback, each a compare-and-set. Every one is
// idempotent: a retry finds its own earlier write.
import { ApplicationFailure } from '@temporalio/common';
import { checkOverrideVoucher } from '../lib/crypto/approval-voucher';
import { decideGate, type GateDecision } from '../lib/deploy/gates';
import { inputMismatches } from '../lib/deploy/inputs';
import { serversState, writeSplit } from '../lib/deploy/split';
import { windowStats } from '../lib/deploy/stats';
import type { DeployGates, DeploySpec, DeployStrategy } from '../lib/spec/deploy';
import { appendAudit } from '../lib/store/audit';
import {
  createDeployment,
  deploymentDecisions,
  getDeployment,
  recordDeploymentDecision,
  updateDeployment,
  type DeploymentDecisionDoc,
  type DeploymentPatch,
} from '../lib/store/deployment-records';
import type { TrafficSplitDoc } from '../lib/store/deployments';
import {
  AliasConflictError,
  getModel,
  getModelVersion,
  moveAlias,
  removeAlias,
  updateModelVersion,
} from '../lib/store/models';
import { loadServedModel } from '../lib/store/served-model';
import type { VouchedOverride } from '../lib/workflow-safe/deploy-override';
import { FAILURE } from '../lib/workflow-safe/failures';
import { modelSchema } from '../serving/protocol';
import { ensureIndexesOnce, heartbeat, type ActivityDeps } from './common';

export interface RolloutRef {
  deploymentId: string;
  model: string;
  version: number;
}

export interface BeginRolloutInput extends RolloutRef {
  strategy: DeployStrategy;
  config: DeploySpec;
  requestedBy: string;
  runId: string | null;
  workflowId: string;
}

export interface SplitInput {
  deploymentId: string;
  seq: number;
  model: string;
  stable: number;
  candidate: number | null;
  weight: number;
  mode: TrafficSplitDoc['mode'];
}

export interface AwaitServersInput {
  model: string;
  version: number | null;
  revision: number;
  timeoutMs: number;
}

export interface AwaitServersResult {
  ready: boolean;
  live: string[];
  behind: string[];
}

export interface GateInput extends RolloutRef {
  stable: number;
  /** Start of the step's window (ms since the epoch). */
  since: number;
  gates: DeployGates;
  /** Shadow: the candidate's numbers are its mirrored answers. */
  shadow: boolean;
  compareShift: boolean;
}

export type GateEvaluation = GateDecision & { window: { since: number; until: number } };

/** A decision as the workflow hands it over (the stored document less its id and time), and the record change it makes. */
export type RecordInput = Omit<DeploymentDecisionDoc, '_id' | 'at'> & {
  model: string;
  patch?: Omit<DeploymentPatch, 'endedAt' | 'lastGate'> & { ended?: boolean };
};

const refused = (message: string, type: string = FAILURE.DeploymentError) =>
  ApplicationFailure.create({ message, type, nonRetryable: true });

export function createRolloutActivities(deps: ActivityDeps) {
  const by = (deploymentId: string) => `rollout:${deploymentId}`;
  const clearCandidate = async (input: RolloutRef): Promise<void> => {
    await removeAlias(deps.store, {
      name: input.model,
      alias: 'candidate',
      version: input.version,
      by: by(input.deploymentId),
      reason: 'rollout ended',
    });
  };
  /** One step or decision: the decision record, the deployment's new state, and an audit entry. */
  const record = async (input: RecordInput): Promise<void> => {
    const { ended, ...patch } = input.patch ?? {};
    const seen = await deploymentDecisions(deps.store.db).countDocuments({
      deploymentId: input.deploymentId,
      seq: input.seq,
    });
    // Audit before the decision: a retry after a crash between the two repeats the entry, never loses it.
    if (seen === 0) {
      await appendAudit(deps.store, {
        actor: null,
        action: `deployment.${input.kind}`,
        object: { type: 'deployment', id: input.deploymentId },
        outcome: input.kind === 'rollback' ? 'failed' : 'ok',
        details: {
          model: input.model,
          outcome: input.outcome,
          by: input.by,
          ...(input.reason ? { reason: input.reason } : {}),
          ...(input.weight !== null ? { weight: input.weight } : {}),
        },
      });
    }
    await recordDeploymentDecision(deps.store, {
      deploymentId: input.deploymentId,
      seq: input.seq,
      at: new Date(),
      kind: input.kind,
      outcome: input.outcome,
      by: input.by,
      reason: input.reason,
      step: input.step,
      weight: input.weight,
      ...(input.metrics ? { metrics: input.metrics } : {}),
    });
    if (patch.steps) {
      // Dates crossed Temporal as ISO strings.
      patch.steps = patch.steps.map((st) => ({
        ...st,
        startedAt: new Date(st.startedAt),
        endedAt: st.endedAt ? new Date(st.endedAt) : null,
      }));
    }
    if (Object.keys(patch).length > 0 || ended) {
      await updateDeployment(deps.store, input.deploymentId, { ...patch, ...(ended ? { endedAt: new Date() } : {}) });
    }
  };
  /** Why stable's callers could not be answered by the candidate (inputs it needs that stable does not take), or null. */
  const unfedInputs = async (input: RolloutRef, stable: number): Promise<string | null> => {
    const inputsOf = async (version: number) =>
      modelSchema((await loadServedModel(deps.store, input.model, { version })).onnx).inputs;
    const unfed = inputMismatches(await inputsOf(stable), await inputsOf(input.version));
    if (unfed.length === 0) return null;
    return (
      `model '${input.model}' v${input.version} needs inputs that callers of stable v${stable} do not send: ` +
      `${unfed.join(', ')}; it would answer them 400. Retrain it with the same features as v${stable}, or ` +
      `promote it directly with POST /v1/models/${input.model}/aliases/production`
    );
  };
  return {
    /**
     * Records the deployment and names the version `candidate`; returns the stable version (production
     * now). A candidate that needs inputs stable's callers do not send is refused here, before any
     * traffic moves: recorded as a failed rollout (decision and audit), the registry and split untouched.
     */
    async beginRollout(input: BeginRolloutInput): Promise<{ stable: number | null }> {
      await ensureIndexesOnce(deps.store);
      const existing = await getDeployment(deps.store, input.deploymentId);
      if (existing?.state === 'failed') throw refused(existing.reason ?? `deployment ${input.deploymentId} failed`);
      let stable = existing?.stable ?? null;
      if (!existing) {
        const v = await getModelVersion(deps.store, input.model, input.version);
        if (!v)
          throw refused(`model '${input.model}' has no version ${input.version}; see GET /v1/models/${input.model}`);
        stable = (await getModel(deps.store, input.model))?.aliases?.production?.version ?? null;
        if (stable === input.version) {
          throw refused(`model '${input.model}' v${input.version} is production already; nothing to roll out`);
        }
        await createDeployment(deps.store, {
          _id: input.deploymentId,
          model: input.model,
          version: input.version,
          stable,
          strategy: input.strategy,
          config: input.config,
          state: 'progressing',
          requestedBy: input.requestedBy,
          runId: input.runId,
          workflowId: input.workflowId,
        });
      }
      const unfed = stable === null ? null : await unfedInputs(input, stable);
      if (unfed) {
        await record({
          deploymentId: input.deploymentId,
          model: input.model,
          seq: 0,
          kind: 'rollback',
          outcome: 'failed',
          by: 'rollout',
          reason: unfed,
          step: null,
          weight: 0,
          patch: { state: 'failed', reason: unfed, ended: true },
        });
        throw refused(unfed);
      }
      if (existing) return { stable };
      await moveAlias(deps.store, {
        name: input.model,
        alias: 'candidate',
        version: input.version,
        by: by(input.deploymentId),
        runId: input.runId ?? undefined,
        reason: `${input.strategy} rollout requested by ${input.requestedBy}`,
      });
      return { stable };
    },

    async setSplit(input: SplitInput): Promise<{ revision: number; at: number }> {
      const revision = await writeSplit(deps.store, {
        model: input.model,
        stable: input.stable,
        candidate: input.candidate,
        candidateWeight: input.weight,
        mode: input.mode,
        deploymentId: input.candidate === null ? null : input.deploymentId,
        change: `${input.deploymentId}:${input.seq}`,
      });
      await updateDeployment(deps.store, input.deploymentId, { weight: input.candidate === null ? 0 : input.weight });
      return { revision, at: Date.now() };
    },

    /** Waits until every live server has loaded `version` and applied `revision`, or the timeout. */
    async awaitServers(input: AwaitServersInput): Promise<AwaitServersResult> {
      const deadline = Date.now() + input.timeoutMs;
      for (;;) {
        const s = await serversState(deps.store, input);
        if (s.behind.length === 0) return { ready: true, ...s };
        if (Date.now() >= deadline) return { ready: false, ...s };
        heartbeat({ behind: s.behind });
        await new Promise((r) => setTimeout(r, 200));
      }
    },

    async evaluateGate(input: GateInput): Promise<GateEvaluation> {
      const until = Date.now();
      const window = { since: input.since, until };
      const [candidate, stable] = await Promise.all([
        windowStats(deps.store, { model: input.model, version: input.version, shadow: input.shadow, ...window }),
        windowStats(deps.store, { model: input.model, version: input.stable, shadow: false, ...window }),
      ]);
      const decision = decideGate(input.gates, candidate, stable, { compareShift: input.compareShift });
      await updateDeployment(deps.store, input.deploymentId, { lastGate: { ...decision, at: new Date(until) } });
      return { ...decision, window };
    },

    recordRollout: record,

    /** Moves `production` to the candidate (compare-and-set on the holder the rollout began with). */
    async promoteCandidate(
      input: RolloutRef & { expected: number | null; approvedBy: string | null; keepCandidate?: boolean }
    ): Promise<{ previous: number | null }> {
      try {
        const moved = await moveAlias(deps.store, {
          name: input.model,
          alias: 'production',
          version: input.version,
          by: input.approvedBy ? `${by(input.deploymentId)} promoted by ${input.approvedBy}` : by(input.deploymentId),
          reason: 'rollout reached 100%',
          expected: input.expected,
        });
        await updateModelVersion(deps.store, input.model, input.version, { status: 'promoted' });
        if (!input.keepCandidate) await clearCandidate(input);
        return { previous: moved.moved ? (moved.previous?.version ?? null) : input.expected };
      } catch (err) {
        if (err instanceof AliasConflictError) throw refused(err.message, FAILURE.DeploymentConflict);
        throw err;
      }
    },

    clearCandidate,

    /**
     * Registry side of a rollback: `candidate` removed; `production` restored to `restore` when the
     * rollout had moved it (blue-green), by compare-and-set on the candidate still holding it.
     */
    async rollbackRegistry(input: RolloutRef & { restore: number | null }): Promise<{ restored: boolean }> {
      await clearCandidate(input);
      if (input.restore === null) return { restored: false };
      try {
        await moveAlias(deps.store, {
          name: input.model,
          alias: 'production',
          version: input.restore,
          by: by(input.deploymentId),
          reason: 'rollback',
          expected: input.version,
        });
        return { restored: true };
      } catch (err) {
        if (err instanceof AliasConflictError) return { restored: false }; // someone moved it since: theirs stands
        throw err;
      }
    },

    /** Checks the API's signature on an override (the workflow cannot do crypto); refusals are audited. */
    async verifyOverride(input: {
      deploymentId: string;
      override: VouchedOverride;
    }): Promise<{ ok: true } | { ok: false; reason: string }> {
      const keyring = deps.store.keyring;
      const check = keyring
        ? checkOverrideVoucher(keyring, input.deploymentId, input.override)
        : ({ ok: false, reason: 'this worker holds no keyring' } as const);
      if (check.ok) return check;
      await appendAudit(deps.store, {
        actor: null,
        action: `deployment.${String(input.override.action).slice(0, 20)}`,
        object: { type: 'deployment', id: input.deploymentId },
        outcome: 'denied',
        details: { reason: check.reason, claimedActor: String(input.override.actor).slice(0, 200), via: 'workflow' },
      });
      return { ok: false, reason: check.reason };
    },
  };
}
