// A run as the API sees it: its stored document (or a 404 naming how to list runs) and the
// status that counts, the live workflow's when it reports one.
import { getRun, RUN_STATUSES, type RunDoc } from '../../lib/store/runs';
import type { ApiContext } from '../context';
import { problems } from '../errors';

export async function mustGetRun(ctx: ApiContext, runId: string): Promise<RunDoc> {
  const doc = await getRun(ctx.store, runId);
  if (!doc) throw problems.notFound(`No run ${runId}. List runs with GET /v1/runs.`);
  return doc;
}

/** The live status value when the workflow reports one, else the stored status. */
export function effectiveStatus(doc: RunDoc, live: Record<string, unknown> | null): string {
  const s = live?.status;
  return typeof s === 'string' && (RUN_STATUSES as readonly string[]).includes(s) ? s : doc.status;
}
