// One Temporal Schedule per monitored model (`monitor-<model>`), made from the policy's `monitor`
// section: every `every` it starts a `monitorModel` workflow on the control queue. Overlap SKIP:
// a window still running when the next is due makes that next one skipped, not queued, so a slow
// store never piles up windows; a short catch-up window for the same reason after an outage.
// Schedules show up in Temporal UI under Schedules. Pausing keeps the schedule and its note.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsAction,
} from '@temporalio/client';
import type { MonitorPolicy } from '../spec/policy';
import { describeSchedule, setSchedulePaused, type ScheduleState } from '../temporal/schedules';

export const MONITOR_WORKFLOW = 'monitorModel';
/** Missed windows (server down) older than this are not run after it comes back. */
const CATCHUP_WINDOW_MS = 10 * 60_000;

export function monitorScheduleId(model: string): string {
  return `monitor-${model}`;
}

export interface MonitorQueues {
  /** Where the monitorModel workflow runs. */
  control: string;
  /** Where its activity runs. */
  cpu: string;
}

function action(model: string, queues: MonitorQueues): ScheduleOptionsAction {
  return {
    type: 'startWorkflow',
    workflowType: MONITOR_WORKFLOW,
    workflowId: `monitor-${model}`,
    taskQueue: queues.control,
    args: [{ model, queues: { cpu: queues.cpu } }],
  };
}

export type SyncOutcome = 'created' | 'updated' | 'deleted' | 'absent';

/**
 * Makes the model's schedule match its monitor policy: creates it, updates its interval and
 * action (keeping a pause), or deletes it when the policy has no `monitor` section.
 */
export async function syncMonitorSchedule(
  client: Client,
  model: string,
  monitor: Pick<MonitorPolicy, 'every'> | undefined,
  queues: MonitorQueues
): Promise<SyncOutcome> {
  const scheduleId = monitorScheduleId(model);
  const handle = client.schedule.getHandle(scheduleId);
  if (!monitor) {
    try {
      await handle.delete();
      return 'deleted';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'absent';
      throw err;
    }
  }
  const spec = { intervals: [{ every: monitor.every }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW_MS };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action: action(model, queues),
      policies,
      memo: { model },
      state: { note: `monitoring of ${model} (policy monitor.every = ${monitor.every} ms)` },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await handle.update((prev) => ({
    ...prev,
    spec,
    action: action(model, queues),
    policies: { ...prev.policies, ...policies },
  }));
  return 'updated';
}

/** The schedule's state, or null when the model has none (no monitor policy). */
export function describeMonitorSchedule(client: Client, model: string): Promise<ScheduleState | null> {
  return describeSchedule(client, monitorScheduleId(model));
}

/** Pauses or resumes the model's schedule; false when it has none. */
export function setMonitorSchedulePaused(
  client: Client,
  model: string,
  paused: boolean,
  note: string
): Promise<boolean> {
  return setSchedulePaused(client, monitorScheduleId(model), paused, note);
}
