// The Temporal Schedules of a model as the API shows them, and the pause / resume routes of each
// kind: monitoring's (POST /v1/models/{name}/monitoring/pause) and retraining's
// (POST /v1/models/{name}/retraining/pause), one definition for both (api/commands/schedule-pause.ts).
import { z } from 'zod';
import { callerOf } from '../commands/caller';
import { setSchedulesPaused, type ScheduleKind } from '../commands/schedule-pause';
import type { ApiContext } from '../context';
import { defineRoute, type RouteDef } from '../route';
import { MODEL_NAME_RE, param } from '../validation';
import { dateTime, problemResponses } from './schemas';

export const scheduleStateSchema = z.object({
  scheduleId: z.string(),
  paused: z.boolean(),
  note: z.string().nullable(),
  nextRuns: z.array(dateTime),
  recentRuns: z.array(z.object({ scheduledAt: dateTime, workflowId: z.string() })),
  skippedOverlap: z.number().int(),
});

const modelParams = z.object({ name: param.id(MODEL_NAME_RE, 'Model name') });
const pauseBody = z.object({ note: z.string().max(500).optional() }).strict();
const pausedSchema = z.object({
  model: z.string(),
  paused: z.boolean(),
  note: z.string(),
  schedules: z.array(z.string()).describe('The schedules paused or resumed'),
});
export type SchedulesPausedJson = z.infer<typeof pausedSchema>;

const ROUTES: Record<ScheduleKind, { segment: string; operation: string; tag: string; what: string; stops: string }> = {
  monitor: {
    segment: 'monitoring',
    operation: 'ModelMonitoring',
    tag: 'monitoring',
    what: 'monitoring schedule',
    stops: 'windows stop until resumed',
  },
  retrain: {
    segment: 'retraining',
    operation: 'ModelRetraining',
    tag: 'models',
    what: 'retraining schedules',
    stops: 'no scheduled or data-check ticks until resumed; events, pushes and drift still trigger',
  },
};

/** POST /v1/models/{name}/<segment>/pause and /resume for one kind of schedule. */
export function schedulePauseRoutes(ctx: ApiContext, kind: ScheduleKind): RouteDef[] {
  const r = ROUTES[kind];
  return [true, false].map((paused) =>
    defineRoute({
      method: 'post',
      path: `/v1/models/:name/${r.segment}/${paused ? 'pause' : 'resume'}`,
      operationId: `${paused ? 'pause' : 'resume'}${r.operation}`,
      summary: paused ? `Pause the model's ${r.what} (${r.stops})` : `Resume the model's ${r.what}`,
      tag: r.tag,
      permission: 'runs:start',
      params: modelParams,
      body: pauseBody,
      bodyOptional: true,
      responses: {
        200: { description: paused ? 'Paused' : 'Resumed', schema: pausedSchema },
        ...problemResponses(404, 503),
      },
      async handler({ params, body }, req, res) {
        res.json(await setSchedulesPaused(ctx, callerOf(ctx, req, res), kind, params.name, paused, body.note));
      },
    })
  );
}
