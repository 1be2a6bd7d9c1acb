// The retrain triggers that run on time, as Temporal Schedules made from a model's policy
// (visible and pausable in Temporal UI):
//   retrain-<model>       retrain.schedule (cron or interval): each tick sends a schedule trigger;
//   retrain-data-<model>  retrain.onData.checkEvery: each tick fingerprints the spec's dataset on
//                         the CPU fleet and sends a data trigger when its sha256 changed.
// Both start the small `retrainTick` workflow (schedules can only start workflows), which
// signals-with-start the model's lifecycle workflow. syncRetrainSchedules() makes the schedules
// match the policy: created, updated in place (keeping a pause), or deleted when the policy no
// longer asks; setRetrainSchedulesPaused() pauses and resumes them (POST .../retraining/pause).
import { ScheduleNotFoundError, type Client, type ScheduleOptions } from '@temporalio/client';
import { scheduleKind, type RetrainPolicy } from '../spec/policy';
import { parseDuration } from '../spec/duration';
import { describeSchedule, setSchedulePaused, type ScheduleState } from '../temporal/schedules';

export const RETRAIN_TICK_WORKFLOW = 'retrainTick';

export type TickCheck = 'schedule' | 'data';

export interface RetrainTickInput {
  model: string;
  scheduleId: string;
  check: TickCheck;
}

const CHECKS: readonly TickCheck[] = ['schedule', 'data'];

export function retrainScheduleId(model: string, check: TickCheck): string {
  return check === 'schedule' ? `retrain-${model}` : `retrain-data-${model}`;
}

function scheduleOptions(
  model: string,
  check: TickCheck,
  policy: RetrainPolicy,
  taskQueue: string
): ScheduleOptions | null {
  const scheduleId = retrainScheduleId(model, check);
  let spec: ScheduleOptions['spec'];
  if (check === 'schedule') {
    if (!policy.schedule) return null;
    spec =
      scheduleKind(policy.schedule) === 'interval'
        ? { intervals: [{ every: parseDuration(policy.schedule)! }] }
        : { cronExpressions: [policy.schedule] };
  } else {
    if (!policy.onData?.checkEvery) return null;
    spec = { intervals: [{ every: policy.onData.checkEvery }] };
  }
  const args: [RetrainTickInput] = [{ model, scheduleId, check }];
  return {
    scheduleId,
    spec,
    action: { type: 'startWorkflow', workflowType: RETRAIN_TICK_WORKFLOW, args, taskQueue, workflowId: scheduleId },
    policies: {
      overlap: policy.scheduleOverlap === 'buffer_one' ? 'BUFFER_ONE' : 'SKIP',
      catchupWindow: policy.catchupWindow,
    },
    memo: { model },
  };
}

/** Creates, updates or deletes the model's retrain schedules to match `policy` (undefined: none). */
export async function syncRetrainSchedules(
  client: Client,
  model: string,
  policy: RetrainPolicy | undefined,
  taskQueue: string
): Promise<{ scheduleId: string; state: 'created' | 'updated' | 'deleted' | 'absent' }[]> {
  const out: { scheduleId: string; state: 'created' | 'updated' | 'deleted' | 'absent' }[] = [];
  for (const check of CHECKS) {
    const scheduleId = retrainScheduleId(model, check);
    const want = policy ? scheduleOptions(model, check, policy, taskQueue) : null;
    const handle = client.schedule.getHandle(scheduleId);
    const exists = await handle.describe().then(
      () => true,
      (err) => (err instanceof ScheduleNotFoundError ? false : Promise.reject(err))
    );
    if (!want) {
      if (exists) await handle.delete();
      out.push({ scheduleId, state: exists ? 'deleted' : 'absent' });
    } else if (exists) {
      await handle.update((prev) => ({ ...prev, spec: want.spec, action: want.action, policies: want.policies }));
      out.push({ scheduleId, state: 'updated' });
    } else {
      await client.schedule.create(want);
      out.push({ scheduleId, state: 'created' });
    }
  }
  return out;
}

/** The model's retrain schedules that exist, with their state (none: the policy has no timed trigger). */
export async function describeRetrainSchedules(client: Client, model: string): Promise<ScheduleState[]> {
  const states = await Promise.all(CHECKS.map((c) => describeSchedule(client, retrainScheduleId(model, c))));
  return states.filter((s): s is ScheduleState => s !== null);
}

/**
 * Pauses or resumes every retrain schedule of the model (the cron or interval tick and the data
 * check); the ids of those it had. Triggers that arrive by themselves (dataset events, pushes,
 * drift) still reach the lifecycle workflow: a pause stops what runs on time.
 */
export async function setRetrainSchedulesPaused(
  client: Client,
  model: string,
  paused: boolean,
  note: string
): Promise<string[]> {
  const ids = CHECKS.map((c) => retrainScheduleId(model, c));
  const found = await Promise.all(ids.map((id) => setSchedulePaused(client, id, paused, note)));
  return ids.filter((_, i) => found[i]);
}
