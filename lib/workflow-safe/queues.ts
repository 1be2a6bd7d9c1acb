// Task queue names per fleet, optionally suffixed by a region: a worker started with
// MLOPS_WORKER_REGION=eu polls `<queue>@eu`, and a run whose spec says `"region": "eu"` sends
// its workflow and every activity there, so its data is processed only by that region's workers.

/** A region name: the queue suffix, the run spec's `region`, MLOPS_WORKER_REGION. */
export const REGION_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const REGION_HINT = 'lower-case letters, digits and - (at most 32), e.g. "eu"';

/** Workflow and activity header carrying the run's region (workflows/interceptors.ts). */
export const REGION_HEADER = 'mlops-region';

/** The region a queue serves: `mlops-gpu@eu` -> `eu`; no suffix -> ''. */
export function queueRegion(queue: string): string {
  const at = queue.lastIndexOf('@');
  return at < 0 ? '' : queue.slice(at + 1);
}

/** `mlops-gpu` + region `eu` -> `mlops-gpu@eu`; no region -> the name unchanged. */
export function regionQueue(queue: string, region?: string): string {
  return region ? `${queue}@${region}` : queue;
}

/** A run's queues routed to one region of every fleet; what a caller passes as `queues`. */
export function regionQueues<Q extends Record<string, string>>(queues: Q, region?: string): Q {
  return Object.fromEntries(Object.entries(queues).map(([k, q]) => [k, regionQueue(q, region)])) as Q;
}
