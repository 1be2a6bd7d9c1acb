// Starting a pipeline run: the spec gets the region it may run in (422 when none), then it is
// started once (api/commands/start-once.ts) and indexed for the run list.
import { randomBytes } from 'node:crypto';
import type { Config } from '../../lib/config';
import type { RunSpec } from '../../lib/spec';
import { ResidencyError, runRegion } from '../../lib/spec/residency';
import { createRun, updateRun } from '../../lib/store/runs';
import { regionQueues } from '../../lib/workflow-safe/queues';
import type { ApiContext } from '../context';
import { problems } from '../errors';
import { startPipeline } from '../pipeline';
import type { RunReader } from '../run-reads';
import type { Caller } from './caller';
import { startOnce } from './start-once';

export function newRunId(): string {
  return `run-${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
}

/** The spec with the region it runs in (its own, or its dataset's); 422 when it may not run anywhere. */
function withRegion(cfg: Config, spec: RunSpec): RunSpec {
  try {
    const region = runRegion(cfg, spec);
    return region ? { ...spec, region } : spec;
  } catch (err) {
    if (!(err instanceof ResidencyError)) throw err;
    throw problems.unprocessable(`Run refused: ${err.message}.`, {
      errors: [{ path: 'body.region', message: err.message }],
    });
  }
}

export async function startRun(
  ctx: ApiContext,
  reader: RunReader,
  caller: Caller,
  input: { spec: RunSpec; idempotency: { key?: string; body: unknown } }
): Promise<{ runId: string; replayed: boolean }> {
  const spec = withRegion(ctx.cfg, input.spec);
  const createdBy = caller.who.subject;
  const { id, replayed } = await startOnce(ctx, caller, {
    noun: 'run',
    field: 'runId',
    scope: createdBy,
    freshId: newRunId(),
    idempotency: input.idempotency,
    async create(runId) {
      await createRun(ctx.store, { runId, model: spec.model, spec, createdBy });
      await reader.indexCreated(runId);
    },
    async start(client, runId) {
      const started = await startPipeline(client, {
        runId,
        spec,
        region: spec.region,
        queues: regionQueues(ctx.cfg.queues, spec.region),
        createdBy,
      });
      if (started) ctx.metrics.runsStarted.inc();
      return started;
    },
    markFailed: (runId, message) =>
      updateRun(ctx.store, runId, { status: 'failed', stage: 'queued', error: { message } }),
    audit: { action: 'run.start', objectType: 'run', details: { model: spec.model } },
  });
  return { runId: id, replayed };
}
