// Who may do what to which object, beyond the role check: the rules a reviewer signs, as pure
// functions over the actor and the object, so a command asks them and a unit test pins them.
// A refusal names its reason (the audit entry's `details.reason`) and a message a person can act on.
import type { Role } from './roles';

export interface Actor {
  subject: string;
  role: Role;
}

export type Refusal = { reason: 'four-eyes' | 'not-owner' | 'version-status'; message: string };

/** Four eyes: the subject that started a run may not decide on it. */
export function decisionRefusal(
  actor: Actor,
  run: { runId: string; createdBy?: string },
  decision: string
): Refusal | null {
  if (!run.createdBy || run.createdBy !== actor.subject) return null;
  return {
    reason: 'four-eyes',
    message: `Four eyes: ${actor.subject} started run ${run.runId} and may not ${decision} it. Ask another approver.`,
  };
}

/** Work (a run, a batch) may be cancelled by whoever started it, or by an admin. */
export function cancelRefusal(actor: Actor, work: { noun: string; id: string; createdBy?: string }): Refusal | null {
  if (actor.role === 'admin' || work.createdBy === actor.subject) return null;
  const noun = work.noun[0].toUpperCase() + work.noun.slice(1);
  return {
    reason: 'not-owner',
    message: `${noun} ${work.id} was started by someone else; only they or an admin may cancel it.`,
  };
}

/**
 * Which versions an alias may point at: never a rejected or expired one, and `production` only an
 * approved or promoted one.
 */
export function aliasRefusal(target: { name: string; version: number; status: string }, alias: string): Refusal | null {
  const { name, version, status } = target;
  if (status === 'rejected' || status === 'expired') {
    return {
      reason: 'version-status',
      message: `Version ${version} of ${name} is ${status}; it cannot hold an alias.`,
    };
  }
  if (alias === 'production' && status !== 'approved' && status !== 'promoted') {
    return {
      reason: 'version-status',
      message: `Version ${version} of ${name} is ${status}; production may only point at an approved version. Approve its run first.`,
    };
  }
  return null;
}
