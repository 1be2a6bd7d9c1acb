// Pipeline runs. (Routes land with the pipeline's store modules.)
import type { Db } from 'mongodb';
import type { ApiContext } from '../context';
import type { MetricsSnapshot } from '../metrics';
import type { RouteDef } from '../route';

export function runRoutes(_ctx: ApiContext): RouteDef[] {
  return [];
}

export function runsSnapshot(_db: Db, _ttlMs: number): () => Promise<MetricsSnapshot> {
  return async () => ({});
}
