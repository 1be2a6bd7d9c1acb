// Starting work once (a run, a batch prediction): claim the Idempotency-Key, write the record,
// start the workflow, and on a Temporal failure mark the record failed (first attempt only, so a
// retry with the same key can still start it) and answer 503 with Retry-After. Audited only
// when this call started the workflow.
import type { Client } from '@temporalio/client';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { idempotentId } from '../idempotency';
import type { Caller } from './caller';

export interface StartPlan {
  noun: 'run' | 'batch';
  /** The id field of the answer and of the 503 problem, e.g. runId. */
  field: string;
  /** Keeps keys of different callers and kinds of work apart. */
  scope: string;
  freshId: string;
  idempotency: { key?: string; body: unknown };
  create(id: string): Promise<void>;
  /** True when this call started the workflow (false: it was running already). */
  start(client: Client, id: string): Promise<boolean>;
  markFailed(id: string, message: string): Promise<unknown>;
  audit: { action: string; objectType: string; details: Record<string, unknown> };
}

/** The id the work runs under and whether this was a replay (nothing new started). */
export async function startOnce(
  ctx: ApiContext,
  caller: Caller,
  plan: StartPlan
): Promise<{ id: string; replayed: boolean }> {
  const { id, replayed, key } = await idempotentId(ctx, plan.idempotency, plan.scope, plan.freshId, plan);
  await plan.create(id);
  let started: boolean;
  try {
    started = await plan.start(await ctx.temporal.client(), id);
  } catch (err) {
    if (!replayed) {
      await plan
        .markFailed(id, `The workflow could not be started (Temporal unreachable); start the ${plan.noun} again.`)
        .catch(() => undefined);
    }
    ctx.log.error(`${plan.noun} workflow start failed`, {
      [plan.field]: id,
      error: err instanceof Error ? err.message : String(err),
    });
    throw problems.unavailable(
      `Temporal did not accept the ${plan.noun}; retry shortly (with the same Idempotency-Key).`,
      { extra: { cause: 'temporal', [plan.field]: id }, headers: { 'Retry-After': '5' } }
    );
  }
  if (started) {
    await caller.audit({
      action: plan.audit.action,
      object: { type: plan.audit.objectType, id },
      details: { ...plan.audit.details, ...(key ? { idempotencyKey: key } : {}) },
    });
  }
  return { id, replayed: replayed || !started };
}
