// Vouching for an approval decision: the API, which has checked the caller's token and the four-eyes
// rule, signs (runId, decision, approver, comment, time) with the keyring; the control worker, which
// holds the same keyring, checks the signature before the workflow takes the decision. Anyone who
// can reach Temporal but not the key (a plain `temporal workflow update`) cannot forge a decision,
// and a voucher for one run does not fit another. `purpose` keeps these signatures apart from
// model signatures made with the same key. Rollout overrides (pause, resume, promote, abort) are
// vouched for the same way, under a purpose of their own and for one deployment.
import type { VouchedDecision } from '../workflow-safe/approval';
import type { VouchedOverride } from '../workflow-safe/deploy-override';
import type { Keyring } from './keyring';
import { sign, verify } from './signing';

/** How long a voucher is accepted after the API signed it (clock skew plus a slow Temporal). */
export const VOUCHER_MAX_AGE_MS = 5 * 60_000;

const PURPOSE = 'mlops run approval v1';
const OVERRIDE_PURPOSE = 'mlops rollout override v1';

function subject(runId: string, d: Omit<VouchedDecision, 'signature'>) {
  return {
    purpose: PURPOSE,
    runId,
    decision: d.decision,
    approver: d.approver,
    comment: d.comment ?? null,
    at: d.at,
  };
}

export function vouch(
  keyring: Keyring,
  runId: string,
  d: Pick<VouchedDecision, 'decision' | 'approver' | 'comment'>,
  now = Date.now()
): VouchedDecision {
  const body = { decision: d.decision, approver: d.approver, ...(d.comment ? { comment: d.comment } : {}), at: now };
  return { ...body, signature: sign(keyring, subject(runId, body)) };
}

export type VoucherCheck = { ok: true } | { ok: false; reason: 'unsigned' | 'bad-signature' | 'stale' };

function checkSigned(
  keyring: Keyring,
  d: { at: unknown; signature?: VouchedDecision['signature'] },
  signed: () => unknown,
  now: number
): VoucherCheck {
  if (!d.signature || typeof d.signature !== 'object') return { ok: false, reason: 'unsigned' };
  if (typeof d.at !== 'number' || typeof d.signature.value !== 'string' || !verify(keyring, signed(), d.signature)) {
    return { ok: false, reason: 'bad-signature' };
  }
  if (Math.abs(now - d.at) > VOUCHER_MAX_AGE_MS) return { ok: false, reason: 'stale' };
  return { ok: true };
}

/** Whether `d` was vouched for by a holder of the keyring, for this run, recently. */
export function checkVoucher(keyring: Keyring, runId: string, d: VouchedDecision, now = Date.now()): VoucherCheck {
  return checkSigned(keyring, d, () => subject(runId, d), now);
}

function overrideSubject(deploymentId: string, o: Omit<VouchedOverride, 'signature'>) {
  return { purpose: OVERRIDE_PURPOSE, deploymentId, action: o.action, actor: o.actor, reason: o.reason, at: o.at };
}

export function vouchOverride(
  keyring: Keyring,
  deploymentId: string,
  o: Pick<VouchedOverride, 'action' | 'actor' | 'reason'>,
  now = Date.now()
): VouchedOverride {
  const body = { action: o.action, actor: o.actor, reason: o.reason, at: now };
  return { ...body, signature: sign(keyring, overrideSubject(deploymentId, body)) };
}

/** Whether an override was vouched for by a holder of the keyring, for this deployment, recently. */
export function checkOverrideVoucher(
  keyring: Keyring,
  deploymentId: string,
  o: VouchedOverride,
  now = Date.now()
): VoucherCheck {
  return checkSigned(keyring, o, () => overrideSubject(deploymentId, o), now);
}
