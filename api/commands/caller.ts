// Who a command acts for: the principal of the request and an audit writer bound to the
// request (actor, request id, address), so commands never see Express.
import type { Request, Response } from 'express';
import type { AuditInput } from '../../lib/store/audit';
import { principal, type Principal } from '../auth';
import type { ApiContext } from '../context';

export interface Caller {
  who: Principal;
  audit(entry: Omit<AuditInput, 'actor' | 'requestId' | 'ip'>): Promise<void>;
}

export function callerOf(ctx: ApiContext, req: Request, res: Response): Caller {
  return { who: principal(res), audit: (entry) => ctx.audit(req, res, entry) };
}

/** Audits a policy's refusal and turns it into the 403 the caller sees. */
export async function refuse(
  caller: Caller,
  entry: { action: string; object: { type: string; id: string } },
  refusal: { reason: string; message: string },
  toProblem: (message: string, extra: Record<string, unknown>) => Error
): Promise<never> {
  await caller.audit({ ...entry, outcome: 'denied', details: { reason: refusal.reason } });
  throw toProblem(refusal.message, { reason: refusal.reason });
}
