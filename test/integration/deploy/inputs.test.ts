/** @jest-environment ./test/unit/ml/ort-environment.js */
// A candidate trained with a column stable's callers do not send would answer every one of them
// 400, which serving_stats does not count, so the gates would see no candidate requests and the
// rollout would pause instead of failing. The rollout refuses it when it starts: a non-retried
// DeploymentError naming the input and the fix, recorded (decision, audit, failed deployment),
// with the split never written and the registry as it was.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { audit } from '../../../lib/store/audit';
import { listDeploymentDecisions, listDeployments } from '../../../lib/store/deployment-records';
import { trafficSplits } from '../../../lib/store/deployments';
import { getModel } from '../../../lib/store/models';
import { FAILURE } from '../../../lib/workflow-safe/failures';
import { penguinsFeatures } from '../../unit/ml/data';
import { penguinsSplit, registerPenguins } from '../serving/helpers';
import { fastDeploy, rolloutEnv, startRollout, type RolloutEnv } from './helpers';

let env: RolloutEnv;
beforeAll(async () => {
  env = await rolloutEnv();
});
afterAll(async () => {
  await env?.close();
});

it('fails a rollout at once when the candidate needs an input stable does not take, moving no traffic', async () => {
  const model = `penguins-${randomUUID().slice(0, 6)}`;
  const data = penguinsSplit();
  const withoutSex = penguinsFeatures.filter((f) => f.name !== 'sex');
  await registerPenguins(env.store, model, data, { seed: 1, features: withoutSex }); // v1: production
  await registerPenguins(env.store, model, data, { seed: 2, promote: false }); // v2: also needs `sex`

  const handle = await startRollout(env, model, fastDeploy(), { version: 2 });
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause?.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: FAILURE.DeploymentError, nonRetryable: true });
  const message = (cause as Error).message;
  expect(message).toMatch(/'sex' \(BYTES; stable does not take it\)/);
  expect(message).toContain(`POST /v1/models/${model}/aliases/production`);

  expect(await trafficSplits(env.store.db).findOne({ _id: model })).toBeNull();
  const m = await getModel(env.store, model);
  expect(m?.aliases.production?.version).toBe(1);
  expect(m?.aliases.candidate).toBeUndefined();
  const [deployment] = await listDeployments(env.store, { model });
  expect(deployment).toMatchObject({ state: 'failed', reason: message, weight: 0 });
  expect(deployment!.endedAt).toBeInstanceOf(Date);
  const decisions = await listDeploymentDecisions(env.store, deployment!._id);
  expect(decisions).toMatchObject([{ kind: 'rollback', outcome: 'failed', by: 'rollout', reason: message }]);
  const entries = await audit(env.store.db).find({ 'object.id': deployment!._id }).toArray();
  expect(entries).toMatchObject([{ action: 'deployment.rollback', outcome: 'failed' }]);
});
