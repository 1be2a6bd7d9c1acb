// Control queue: checking an approval decision the workflow received. The workflow cannot do
// crypto, so its `approve` update handler calls this (as a local activity on the control worker,
// which holds the keyring): a decision the API did not vouch for is refused, and the refusal is
// audited (who claimed to decide, and why it was refused).
import { checkVoucher } from '../lib/crypto/approval-voucher';
import { appendAudit } from '../lib/store/audit';
import type { VouchedDecision } from '../workflows/messages';
import type { ActivityDeps } from './common';

export type ApprovalVerdict = { ok: true } | { ok: false; reason: string };

export function createApprovalActivities(deps: ActivityDeps) {
  return {
    async verifyApproval(input: { runId: string; decision: VouchedDecision }): Promise<ApprovalVerdict> {
      const keyring = deps.store.keyring;
      const check = keyring
        ? checkVoucher(keyring, input.runId, input.decision)
        : ({ ok: false, reason: 'this worker holds no keyring' } as const);
      if (check.ok) return check;
      const d = input.decision;
      await appendAudit(deps.store, {
        actor: null,
        action: d.decision === 'reject' ? 'run.reject' : 'run.approve',
        object: { type: 'run', id: input.runId },
        outcome: 'denied',
        details: { reason: check.reason, claimedApprover: String(d.approver).slice(0, 200), via: 'workflow' },
      });
      return { ok: false, reason: check.reason };
    },
  };
}
