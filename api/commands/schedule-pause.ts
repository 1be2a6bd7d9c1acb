// Pausing and resuming a model's schedules, monitoring's or retraining's: the note says who did
// it unless the caller gives one, a model without such a schedule is a 404 saying how to get one,
// and the move is audited (model.monitor.pause / model.retrain.pause, and .resume).
import type { Client } from '@temporalio/client';
import { setRetrainSchedulesPaused } from '../../lib/lifecycle/schedule';
import { monitorScheduleId, setMonitorSchedulePaused } from '../../lib/monitoring/schedule';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import type { Caller } from './caller';

const KINDS = {
  monitor: {
    what: 'monitoring schedule',
    howTo: 'a "monitor" section',
    async set(client: Client, model: string, paused: boolean, note: string): Promise<string[]> {
      return (await setMonitorSchedulePaused(client, model, paused, note)) ? [monitorScheduleId(model)] : [];
    },
  },
  retrain: {
    what: 'retraining schedule',
    howTo: 'a "retrain" section with "schedule" or "onData.checkEvery"',
    set: setRetrainSchedulesPaused,
  },
} as const;

export type ScheduleKind = keyof typeof KINDS;

export async function setSchedulesPaused(
  ctx: ApiContext,
  caller: Caller,
  kind: ScheduleKind,
  model: string,
  paused: boolean,
  given: string | undefined
): Promise<{ model: string; paused: boolean; note: string; schedules: string[] }> {
  const k = KINDS[kind];
  const note = given ?? `${paused ? 'paused' : 'resumed'} by ${caller.who.subject}`;
  const schedules = await k.set(await ctx.temporal.client(), model, paused, note);
  if (!schedules.length) {
    throw problems.notFound(
      `Model ${model} has no ${k.what}; set a policy with ${k.howTo} (PUT /v1/models/${model}/policy) first.`
    );
  }
  await caller.audit({
    action: `model.${kind}.${paused ? 'pause' : 'resume'}`,
    object: { type: 'model', id: model },
    details: { note, schedules },
  });
  return { model, paused, note, schedules };
}
