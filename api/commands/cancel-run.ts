// Cancelling a run: its starter or an admin (lib/auth/policies.ts), only while it has not ended.
import { cancelRefusal } from '../../lib/auth/policies';
import { TERMINAL_STATUSES } from '../../lib/store/runs';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { cancelPipeline, isNotFound } from '../pipeline';
import { refuse, type Caller } from './caller';
import { mustGetRun } from './run-lookup';

export async function cancelRun(
  ctx: ApiContext,
  caller: Caller,
  input: { runId: string; reason?: string }
): Promise<void> {
  const { runId, reason } = input;
  const doc = await mustGetRun(ctx, runId);
  const object = { type: 'run', id: runId };
  const refusal = cancelRefusal(caller.who, { noun: 'run', id: runId, createdBy: doc.createdBy });
  if (refusal) await refuse(caller, { action: 'run.cancel', object }, refusal, (m) => problems.forbidden(m));
  if (TERMINAL_STATUSES.includes(doc.status)) {
    throw problems.conflict(`Run ${runId} already ended (${doc.status}); there is nothing to cancel.`, {
      extra: { runStatus: doc.status },
    });
  }
  const client = await ctx.temporal.client();
  try {
    await cancelPipeline(client, runId);
  } catch (err) {
    if (isNotFound(err)) throw problems.conflict(`Run ${runId} is not running any more; there is nothing to cancel.`);
    throw err;
  }
  await caller.audit({ action: 'run.cancel', object, details: reason ? { reason } : undefined });
}
