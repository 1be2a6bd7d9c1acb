// A human override of a rollout as the API, the rollout workflow and the voucher code all see it:
// one definition, importable from workflow code (pure types) and from lib/crypto alike.
//   pause    hold the rollout at its current weight until resumed
//   resume   go on from a pause (or an inconclusive step) with a fresh window
//   promote  move the candidate to 100% and `production` now
//   abort    roll back: traffic to stable, aliases back
import type { Signature } from '../crypto/signing';

export const OVERRIDE_ACTIONS = ['pause', 'resume', 'promote', 'abort'] as const;
export type OverrideAction = (typeof OVERRIDE_ACTIONS)[number];

/** Actions that move a version toward production: the rollout's requester may not take them (four eyes). */
export const FOUR_EYES_ACTIONS: readonly OverrideAction[] = ['resume', 'promote'];

export interface OverrideRequest {
  action: OverrideAction;
  /** Who decided (the API fills it from the caller's token, never from the request body). */
  actor: string;
  reason: string;
}

/** An override as the API vouches for it (lib/crypto/approval-voucher.ts, purpose "rollout override"). */
export interface VouchedOverride extends OverrideRequest {
  /** When the API signed it (ms since the epoch); old vouchers are refused. */
  at: number;
  signature: Signature;
}
