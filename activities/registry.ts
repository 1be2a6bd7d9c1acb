// Control queue: the model registry. One version per run (retries return the same version),
// lineage on every version, the approval decision, and the atomic promotion that moves
// `production` and records the previous holder (or, for a spec with `deploy`, stages the serving
// artifact for the rollout workflow, which moves the aliases).
import { recordApproval } from '../lib/store/approvals';
import {
  addVersionArtifacts,
  getModelVersion,
  moveAlias,
  registerModelVersion,
  updateModelVersion,
} from '../lib/store/models';
import type { ArtifactRef } from '../lib/store/artifacts';
import { updateRun } from '../lib/store/runs';
import { codeVersion, currentAttempt, tracked, type ActivityDeps } from './common';
import type { DecisionInput, PromoteInput, PromoteResult, RegisterInput, RegisterResult } from './types';

export function createRegistryActivities(deps: ActivityDeps) {
  /** Names the artifact servers run (`serving`: int8 when optimisation chose it, else the float export). */
  const attachServing = async (input: PromoteInput): Promise<ArtifactRef> => {
    const v = await getModelVersion(deps.store, input.model, input.version);
    if (!v) throw new Error(`model '${input.model}' v${input.version} is not registered`);
    const opt = input.optimisation;
    const serving = opt?.serving ?? v.artifacts.onnx;
    const extra: Record<string, typeof serving> = { serving };
    for (const c of opt?.candidates ?? []) extra[`onnx_${c.kind}`] = c.ref; // both artifacts are kept
    await addVersionArtifacts(deps.store, input.model, input.version, extra);
    if (opt) {
      await updateModelVersion(deps.store, input.model, input.version, {
        optimisation: {
          chosen: opt.chosen,
          reason: opt.reason,
          metricName: opt.metricName,
          floatMetric: opt.floatMetric,
          candidates: opt.candidates,
        },
      });
    }
    return serving;
  };
  return {
    async registerCandidate(input: RegisterInput): Promise<RegisterResult> {
      return tracked(
        deps,
        input.runId,
        'register',
        async () => {
          const { spec, train, ingest, evaluation } = input;
          const artifacts = { onnx: train.onnx, model: train.model };
          const { version, created } = await registerModelVersion(deps.store, {
            name: spec.model,
            runId: input.runId,
            metrics: {
              ...evaluation.challenger,
              gate: input.gate,
              champion: evaluation.champion
                ? {
                    version: evaluation.champion.version,
                    metrics: evaluation.champion.metrics,
                    heldOut: evaluation.champion.heldOut,
                  }
                : null,
            },
            artifacts,
            lineage: {
              datasetSha256: ingest.sha256,
              datasetSource: ingest.source,
              datasetRows: ingest.rows,
              ...(ingest.featureViews ? { featureViews: ingest.featureViews } : {}),
              spec,
              codeVersion: codeVersion(),
              parentRun: input.runId,
              trainer: {
                ...spec.trainer,
                epochsRun: train.epochsRun,
                bestEpoch: train.bestEpoch,
                parameters: train.parameterCount,
              },
              features: input.features,
              target: spec.target,
              task: input.task,
              artifacts: Object.fromEntries(Object.entries(artifacts).map(([k, v]) => [k, v.sha256])),
              ...(evaluation.trainRows ? { trainRows: evaluation.trainRows } : {}),
            },
          });
          await updateRun(deps.store, input.runId, { registered: { name: version.name, version: version.version } });
          await deps.hooks?.afterRegister?.(currentAttempt(), input.runId);
          return { name: version.name, version: version.version, created };
        },
        (r) => ({ version: r.version, created: r.created })
      );
    },

    async recordDecision(input: DecisionInput): Promise<void> {
      await tracked(deps, input.runId, `approval`, async () => {
        const a = await recordApproval(deps.store, {
          runId: input.runId,
          model: input.model,
          version: input.version,
          decision: input.decision,
          approver: input.approver,
          comment: input.comment,
          requestedAt: new Date(input.requestedAt),
          deadline: new Date(input.deadline),
          decidedAt: new Date(input.decidedAt),
        });
        const approval = { decision: a.decision, approver: a.approver ?? '', comment: a.comment, at: a.decidedAt };
        await updateModelVersion(deps.store, input.model, input.version, {
          status: a.decision === 'approve' ? 'approved' : a.decision === 'reject' ? 'rejected' : 'expired',
          approval,
        });
        await updateRun(deps.store, input.runId, { approval, pendingApproval: null });
      });
    },

    /** A rollout's first step (the rollout moves the aliases): the serving artifact, nothing else. */
    async stageServing(input: PromoteInput): Promise<{ serving: ArtifactRef }> {
      return tracked(deps, input.runId, 'stage-serving', async () => ({ serving: await attachServing(input) }));
    },

    async promote(input: PromoteInput): Promise<PromoteResult> {
      return tracked(
        deps,
        input.runId,
        'promote',
        async () => {
          const serving = await attachServing(input);
          const opt = input.optimisation;
          const moved = await moveAlias(deps.store, {
            name: input.model,
            alias: 'production',
            version: input.version,
            by: input.approver ? `pipeline:${input.runId} approved by ${input.approver}` : `pipeline:${input.runId}`,
            runId: input.runId,
            reason: 'pipeline promotion',
          });
          await updateModelVersion(deps.store, input.model, input.version, { status: 'promoted' });
          const result: PromoteResult = {
            alias: 'production',
            version: input.version,
            previousVersion: moved.previous?.version ?? null,
            moved: moved.moved,
            serving,
          };
          await updateRun(deps.store, input.runId, {
            promotion: {
              alias: 'production',
              version: input.version,
              previousVersion: result.previousVersion,
              at: moved.holder.since,
            },
            optimisation: opt ? { chosen: opt.chosen, reason: opt.reason } : undefined,
          });
          return result;
        },
        (r) => ({ version: r.version, previousVersion: r.previousVersion, moved: r.moved })
      );
    },
  };
}
