// A production model whose registry record was changed after registration is never
// loaded: the next run of that model fails at evaluate, without retries, with an audit entry.
import { audit } from '../../../lib/store/audit';
import { getRun } from '../../../lib/store/runs';
import { getModelVersion, modelVersions } from '../../../lib/store/models';
import { decide, penguinsSpec, pipelineEnv, startPipeline, waitForStatus, type PipelineEnv } from './helpers';

let env: PipelineEnv;
beforeAll(async () => {
  env = await pipelineEnv();
});
afterAll(async () => {
  await env?.close();
});

it('refuses a tampered production model with a clear error and an audit entry', async () => {
  const spec = penguinsSpec();
  const first = await startPipeline(env, spec);
  await waitForStatus(first, 'awaiting_approval');
  await decide(env, first, { decision: 'approve', approver: 'alice' });
  expect((await first.result()).status).toBe('succeeded');
  const v1 = (await getModelVersion(env.store, spec.model, 1))!;
  expect(v1.signature?.alg).toBe('HMAC-SHA256');

  // Someone with database access points the serving artifact at other bytes.
  await modelVersions(env.store.db).updateOne(
    { _id: v1._id },
    { $set: { 'artifacts.serving.sha256': 'f'.repeat(64) } }
  );

  const second = await startPipeline(env, spec);
  const failure = await second.result().then(
    () => undefined,
    (err: Error & { cause?: Error }) => err.cause?.message
  );
  expect(failure).toMatch(new RegExp(`failed at evaluate: model '${spec.model}' v1 failed signature verification`));
  expect((await getRun(env.store, second.workflowId))?.status).toBe('failed');
  const history = await second.fetchHistory();
  const evaluateStarts = history.events!.filter(
    (e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt! > 1
  );
  expect(evaluateStarts).toEqual([]); // not retried
  const entry = await audit(env.store.db).findOne({ action: 'model.verify', 'object.id': v1._id });
  expect(entry).toMatchObject({ outcome: 'failed', details: { runId: second.workflowId } });
});
