// Model registry. (Routes land with the pipeline's store modules.)
import type { ApiContext } from '../context';
import type { RouteDef } from '../route';

export function modelRoutes(_ctx: ApiContext): RouteDef[] {
  return [];
}
