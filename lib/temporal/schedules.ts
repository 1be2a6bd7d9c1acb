// What the API shows of a Temporal Schedule, and pausing one with a note: the same for every
// schedule the platform makes (monitoring's `monitor-<model>`, retraining's `retrain-<model>`
// and `retrain-data-<model>`), so each reads and pauses the same way as in Temporal UI.
import { ScheduleNotFoundError, type Client } from '@temporalio/client';

export interface ScheduleState {
  scheduleId: string;
  paused: boolean;
  note: string | null;
  nextRuns: string[];
  recentRuns: { scheduledAt: string; workflowId: string }[];
  skippedOverlap: number;
}

/** The schedule's state, or null when there is none of that id. */
export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleState | null> {
  try {
    const d = await client.schedule.getHandle(scheduleId).describe();
    return {
      scheduleId: d.scheduleId,
      paused: d.state.paused,
      note: d.state.note ?? null,
      nextRuns: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
      recentRuns: d.info.recentActions.slice(-10).map((a) => ({
        scheduledAt: a.scheduledAt.toISOString(),
        workflowId: a.action.workflow.workflowId,
      })),
      skippedOverlap: d.info.numActionsSkippedOverlap,
    };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

/** Pauses or resumes the schedule, keeping `note` in its state; false when there is none. */
export async function setSchedulePaused(
  client: Client,
  scheduleId: string,
  paused: boolean,
  note: string
): Promise<boolean> {
  const handle = client.schedule.getHandle(scheduleId);
  try {
    if (paused) await handle.pause(note);
    else await handle.unpause(note);
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}
