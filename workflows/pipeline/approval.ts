// Human approval of a registered candidate: how decisions reach the run (the `approve` update,
// vouched for by the API and checked again here; the legacy `approval` signal for histories that
// predate it) and the wait for one, bounded by the spec's approval timeout. The first decision
// wins; no decision before the deadline ends the run `expired`.
import { ApplicationFailure, condition, patched, setHandler } from '@temporalio/workflow';
import { FAILURE } from '../../lib/workflow-safe/failures';
import {
  approvalSignal,
  approvalUpdate,
  type ApprovalAck,
  type ApprovalDecision,
  type PendingApproval,
  type RunStatus,
  type VouchedDecision,
} from '../messages';
import type { PipelineActivities } from './activities';
import { enter, publish, type RunState } from './state';

/**
 * Why a decision cannot be taken now, or null: the cheap checks, shared by the update's validator
 * (so the caller hears the refusal) and its handler (the state may change while the signature is
 * checked). `fourEyes` is false only for the legacy signal, which never knew the requester.
 */
function approvalRefusal(
  d: ApprovalDecision | undefined,
  requester: string | undefined,
  status: RunStatus,
  decided: boolean,
  fourEyes = true
): string | null {
  if (status !== 'awaiting_approval') return `the run is ${status}, not awaiting_approval`;
  if (decided) return 'the run has been decided already';
  if (d?.decision !== 'approve' && d?.decision !== 'reject') return 'decision must be approve or reject';
  if (typeof d.approver !== 'string' || !d.approver) return 'approver is missing';
  if (!fourEyes) return null;
  if (!requester) return 'the run records no requester (start runs through the API), so four eyes cannot be checked';
  if (d.approver === requester) return `four eyes: ${requester} requested this run and may not decide on it`;
  return null;
}

function approvalRefused(message: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `Approval refused: ${message}`,
    type: FAILURE.ApprovalRefused,
    nonRetryable: true,
  });
}

function takeDecision(run: RunState, d: ApprovalDecision): void {
  run.decision = {
    decision: d.decision,
    approver: d.approver,
    comment: typeof d.comment === 'string' ? d.comment.slice(0, 2000) : undefined,
    at: Date.now(),
  };
}

/** Lets decisions reach the run; `requester` may not decide (four eyes). Call before the first await. */
export function acceptDecisions(run: RunState, acts: PipelineActivities, requester: string | undefined): void {
  // v3: decisions arrive as the `approve` update, vouched for by the API and checked again here,
  // so reaching Temporal is not enough to approve a run. Histories recorded before it replay with
  // the old signal (which trusted any approver).
  if (patched('approval-update-four-eyes')) {
    setHandler(
      approvalUpdate,
      async (d: VouchedDecision): Promise<ApprovalAck> => {
        // The signature check needs the keyring: the control worker does it (and audits a refusal).
        const verdict = await acts.history.verifyApproval({ runId: run.runId, decision: d });
        if (!verdict.ok) throw approvalRefused(`the decision is not vouched for by the API (${verdict.reason})`);
        // Another decision may have been taken while this one was being checked.
        const late = approvalRefusal(d, requester, run.view.status, run.decision !== null);
        if (late) throw approvalRefused(late);
        takeDecision(run, d);
        return { runId: run.runId, decision: d.decision, approver: d.approver };
      },
      {
        validator: (d: VouchedDecision) => {
          const refusal = approvalRefusal(d, requester, run.view.status, run.decision !== null);
          if (refusal) throw approvalRefused(refusal);
        },
      }
    );
  } else {
    setHandler(approvalSignal, (d: ApprovalDecision) => {
      // Only a decision on a pending approval counts; the first one wins.
      if (approvalRefusal(d, undefined, run.view.status, run.decision !== null, false)) return;
      takeDecision(run, d);
    });
  }
}

/** How the approval stage ended: approved (the run goes on), or the run ends with `status`. */
export type ApprovalOutcome =
  { approved: true; approver: string | null } | { approved: false; status: 'expired' | 'rejected'; reason: string };

/** Waits for a decision on `version` (recorded with the model version and as a workflow step). */
export async function awaitApproval(
  run: RunState,
  acts: PipelineActivities,
  version: number
): Promise<ApprovalOutcome> {
  const { runId, spec, view } = run;
  enter(run, 'approval');
  const requestedAt = Date.now();
  const deadline = requestedAt + spec.approval.timeout;
  const pending: PendingApproval = {
    model: spec.model,
    version,
    requestedAt: new Date(requestedAt).toISOString(),
    deadline: new Date(deadline).toISOString(),
  };
  view.status = 'awaiting_approval';
  view.pendingApproval = pending;
  publish(run);
  await acts.history.setRunState({
    runId,
    status: 'awaiting_approval',
    stage: 'approval',
    fields: { pendingApproval: { version, deadline } },
  });
  const decided = await condition(() => run.decision !== null, spec.approval.timeout);
  const d = run.decision;
  view.pendingApproval = null;
  const outcome = decided && d ? d.decision : 'expired';
  await acts.history.recordDecision({
    runId,
    model: spec.model,
    version,
    decision: outcome,
    approver: d?.approver ?? null,
    comment: d?.comment,
    requestedAt,
    deadline,
    decidedAt: d?.at ?? Date.now(),
  });
  await acts.history.recordWorkflowStep({
    runId,
    step: 'approval-wait',
    status: outcome === 'approve' ? 'completed' : 'failed',
    startedAt: requestedAt,
    endedAt: Date.now(),
    details: { decision: outcome, approver: d?.approver ?? null, version },
    error:
      outcome === 'approve'
        ? undefined
        : outcome === 'reject'
          ? 'rejected by the approver'
          : 'no decision before the deadline',
  });
  if (d)
    view.decision = {
      decision: d.decision,
      approver: d.approver,
      comment: d.comment,
      at: new Date(d.at).toISOString(),
    };
  if (outcome === 'expired') {
    return {
      approved: false,
      status: 'expired',
      reason: `no approval decision within ${spec.approval.timeout} ms (deadline ${pending.deadline})`,
    };
  }
  if (outcome === 'reject') {
    return {
      approved: false,
      status: 'rejected',
      reason: `rejected by ${d?.approver}${d?.comment ? `: ${d.comment}` : ''}`,
    };
  }
  view.status = 'running';
  await acts.history.setRunState({ runId, status: 'running' });
  return { approved: true, approver: d?.approver ?? null };
}
