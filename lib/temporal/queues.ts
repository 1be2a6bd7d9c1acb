// Task queue names per fleet, optionally suffixed by a pool (region): a worker started with
// MLOPS_WORKER_POOL=eu polls `<queue>@eu`, and a run whose spec says `"pool": "eu"` sends
// its activities there, so its data is processed only by that pool's workers.

/** `mlops-gpu` + pool `eu` -> `mlops-gpu@eu`; no pool -> the name unchanged. */
export function poolQueue(queue: string, pool?: string): string {
  return pool ? `${queue}@${pool}` : queue;
}

/** A run's queues routed to one pool of every fleet; what a caller passes as `queues`. */
export function poolQueues<Q extends Record<string, string>>(queues: Q, pool?: string): Q {
  return Object.fromEntries(Object.entries(queues).map(([k, q]) => [k, poolQueue(q, pool)])) as Q;
}
