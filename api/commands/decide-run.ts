// Deciding on a run waiting for approval: four eyes (lib/auth/policies.ts), the run must be
// waiting, and the decision goes to the workflow signed with the API's keyring (the workflow
// checks the voucher again and may still refuse: 409).
import { vouch } from '../../lib/crypto/approval-voucher';
import { decisionRefusal } from '../../lib/auth/policies';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { ApprovalRefusedError, decideApproval, liveState } from '../pipeline';
import { refuse, type Caller } from './caller';
import { effectiveStatus, mustGetRun } from './run-lookup';

export async function decideRun(
  ctx: ApiContext,
  caller: Caller,
  input: { runId: string; decision: 'approve' | 'reject'; comment?: string }
): Promise<{ runId: string; decision: 'approve' | 'reject'; approver: string }> {
  const { runId, decision, comment } = input;
  const approver = caller.who.subject;
  const doc = await mustGetRun(ctx, runId);
  const action = decision === 'approve' ? 'run.approve' : 'run.reject';
  const object = { type: 'run', id: runId };
  const refusal = decisionRefusal(caller.who, { runId, createdBy: doc.createdBy }, decision);
  if (refusal) await refuse(caller, { action, object }, refusal, (m, extra) => problems.forbidden(m, { extra }));

  const client = await ctx.temporal.client();
  const state = await liveState(client, runId).catch(() => {
    throw problems.unavailable('Temporal is unreachable; retry shortly.', { extra: { cause: 'temporal' } });
  });
  const status = state.found && state.open ? effectiveStatus(doc, state.live) : doc.status;
  const waiting = state.found && state.open && (status === 'awaiting_approval' || state.live?.pendingApproval);
  if (!waiting) {
    throw problems.conflict(
      `Run ${runId} is ${status}, not awaiting_approval; only a run waiting for approval can be decided.`,
      { extra: { runStatus: status } }
    );
  }
  const keyring = ctx.store.keyring;
  if (!keyring) throw problems.unavailable('The API holds no keyring, so it cannot vouch for the decision.');
  try {
    await decideApproval(client, runId, vouch(keyring, runId, { decision, approver, comment }));
  } catch (err) {
    if (!(err instanceof ApprovalRefusedError)) throw err;
    throw problems.conflict(`Run ${runId}: ${err.message}.`, { extra: { reason: 'refused-by-workflow' } });
  }
  await caller.audit({ action, object, details: { ...(comment ? { comment } : {}), model: doc.model } });
  return { runId, decision, approver };
}
