// Pausing and resuming a model's monitoring schedule: the note says who did it unless the caller
// gives one, a model without a schedule is a 404 saying how to get one, and the move is audited.
import { setMonitorSchedulePaused } from '../../lib/monitoring/schedule';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { Caller } from './caller';

export async function setMonitoringPaused(
  ctx: ApiContext,
  caller: Caller,
  model: string,
  paused: boolean,
  given: string | undefined
): Promise<{ model: string; paused: boolean; note: string }> {
  const note = given ?? `${paused ? 'paused' : 'resumed'} by ${caller.who.subject}`;
  const found = await setMonitorSchedulePaused(await ctx.temporal.client(), model, paused, note);
  if (!found) {
    throw problems.notFound(
      `Model ${model} has no monitoring schedule; set a policy with a "monitor" section (PUT /v1/models/${model}/policy) first.`
    );
  }
  await caller.audit({
    action: paused ? 'model.monitor.pause' : 'model.monitor.resume',
    object: { type: 'model', id: model },
    details: { note },
  });
  return { model, paused, note };
}
