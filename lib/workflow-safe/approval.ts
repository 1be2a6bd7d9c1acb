// The approval decision as the API, the workflow and the voucher code all see it: one definition,
// importable from workflow code (pure types) and from lib/crypto/approval-voucher.ts alike.
import type { Signature } from '../crypto/signing';

export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  /** Who decided (the API fills it from the caller's token, never from the request body). */
  approver: string;
  comment?: string;
}

/**
 * A decision as the API vouches for it: `signature` is an HMAC (lib/crypto/approval-voucher.ts)
 * over the run id, decision, approver, comment and `at`, with a key the control worker holds.
 */
export interface VouchedDecision extends ApprovalDecision {
  /** When the API signed it (ms since the epoch); old vouchers are refused. */
  at: number;
  signature: Signature;
}
