// The happy path through to promotion, then a second run that becomes the new production
// model (champion/challenger, previous holder recorded), and a rejection.
import { getReferenceProfile } from '../../../lib/store/monitoring';
import { statusQuery } from '../../../workflows/messages';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { decodeModel } from '../../../lib/ml/onnx/proto';
import { queryRunIndex } from '../../../lib/store/run-index';
import { getRun } from '../../../lib/store/runs';
import { getRunEvents } from '../../../lib/store/events';
import { getRunMetrics } from '../../../lib/store/metrics';
import { getAliasHistory, getModel, getModelVersion, listModelVersions } from '../../../lib/store/models';
import { readArtifact } from '../../../lib/store/artifacts';
import { getApproval } from '../../../lib/store/approvals';
import { MODEL_NAME, STAGE, RUN_STATUS } from '../../../lib/workflow-safe/search-attributes';
import { decide, penguinsSpec, pipelineEnv, startPipeline, waitForStatus, type PipelineEnv } from './helpers';

let env: PipelineEnv;
beforeAll(async () => {
  env = await pipelineEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('pipeline: happy path to promotion', () => {
  it('trains, evaluates, waits for approval, optimises and promotes; a second run replaces the champion', async () => {
    const spec = penguinsSpec({ gates: { minAccuracy: 0.8 } });
    const handle = await startPipeline(env, spec);
    const pending = await waitForStatus(handle, 'awaiting_approval');
    expect(pending.stage).toBe('approval');
    expect(pending.version).toBe(1);
    expect(pending.pendingApproval).toMatchObject({ model: spec.model, version: 1 });
    expect(Date.parse(pending.pendingApproval!.deadline) - Date.parse(pending.pendingApproval!.requestedAt)).toBe(
      600_000
    );

    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.get(MODEL_NAME)).toBe(spec.model);
    expect(desc.typedSearchAttributes.get(STAGE)).toBe('approval');
    expect(desc.typedSearchAttributes.get(RUN_STATUS)).toBe('awaiting_approval');
    expect((await getRun(env.store, handle.workflowId))?.status).toBe('awaiting_approval');
    // The status change is in the API's run index already: approvers list awaiting runs by status.
    const awaiting = await queryRunIndex(env.store.db, {
      status: 'awaiting_approval',
      limit: 50,
      refresh: async (e) => e,
    });
    expect(awaiting.items.map((e) => e.id)).toContain(handle.workflowId);

    await decide(env, handle, { decision: 'approve', approver: 'alice', comment: 'looks good' });
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.version).toBe(1);
    expect(result.metrics?.accuracy).toBeGreaterThan(0.9);
    expect(result.promotion).toMatchObject({ version: 1, previousVersion: null });

    const status = await handle.query(statusQuery);
    expect(status).toMatchObject({ status: 'succeeded', stage: 'done', progress: { fraction: 1 } });
    expect(status.decision).toMatchObject({ decision: 'approve', approver: 'alice' });

    const run = await getRun(env.store, handle.workflowId);
    expect(run).toMatchObject({
      status: 'succeeded',
      stage: 'done',
      task: 'classification',
      registered: { version: 1 },
    });
    expect(run?.durationMs).toBeGreaterThan(0);
    expect(run?.dataset?.sha256).toBe('f204db2c753b0937caac3cb35258562c14f073e4bbc76be24b4c51ce22767a93');

    const v1 = await getModelVersion(env.store, spec.model, 1);
    expect(v1).toMatchObject({ status: 'promoted', aliases: ['production'], runId: handle.workflowId });
    expect(v1?.lineage).toMatchObject({
      datasetSha256: run?.dataset?.sha256,
      parentRun: handle.workflowId,
      target: 'species',
    });
    expect(v1?.lineage.artifacts.onnx).toBe(v1?.artifacts.onnx.sha256);
    // Monitoring's reference, found through the version's run: bins of the training split's
    // features and the predicted labels on the test split (lib/monitoring/profile.ts).
    const profile = await getReferenceProfile(env.store, v1!.runId);
    expect(profile?.features?.map((f) => f.name).sort()).toEqual(v1!.lineage.features.map((f) => f.name).sort());
    expect(profile?.rows).toBeGreaterThan(200);
    expect(profile?.prediction).toMatchObject({ type: 'categorical', name: 'label' });
    expect(profile?.prediction?.type === 'categorical' && profile.prediction.categories.sort()).toEqual([
      'Adelie',
      'Chinstrap',
      'Gentoo',
    ]);
    expect(v1?.approval).toMatchObject({ decision: 'approve', approver: 'alice' });
    // The registry records which artifact serves: here the int8 one (both kept), and it is int8.
    expect(v1?.optimisation?.chosen).toBe('int8');
    expect(v1!.artifacts.serving.sha256).toBe(v1!.artifacts.onnx_int8.sha256);
    expect(v1!.artifacts.serving.sha256).not.toBe(v1!.artifacts.onnx.sha256);
    const served = await readArtifact(env.store, v1!.artifacts.serving);
    expect(served.length).toBe(v1!.artifacts.serving.bytes);
    expect(served.length).toBeLessThan(v1!.artifacts.onnx.bytes);
    expect(decodeModel(served).graph.node.map((n) => n.opType)).toContain('DynamicQuantizeMatMul');
    expect((await getApproval(env.store, handle.workflowId))?.approver).toBe('alice');

    const events = await getRunEvents(env.store, handle.workflowId);
    const steps = events.map((e) => e.step);
    for (const s of [
      'ingest',
      'validate',
      'features',
      'train',
      'evaluate',
      'gate',
      'register',
      'approval-wait',
      'optimise',
      'promote',
    ]) {
      expect(steps).toContain(s);
    }
    for (const e of events) {
      expect(e.status).toBe('completed');
      expect(e.attempt).toBeGreaterThanOrEqual(1);
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
    }
    const metrics = await getRunMetrics(env.store, handle.workflowId);
    expect(metrics.length).toBe(40);

    // Second run, same model name: it is compared with v1 (the champion) and replaces it.
    const h2 = await startPipeline(env, { ...spec, approval: { required: false } });
    const r2 = await h2.result();
    expect(r2.status).toBe('succeeded');
    expect(r2.promotion).toMatchObject({ version: 2, previousVersion: 1 });
    const run2 = await getRun(env.store, h2.workflowId);
    expect(run2?.champion).toMatchObject({ version: 1 });
    const model = await getModel(env.store, spec.model);
    expect(model?.aliases.production).toMatchObject({ version: 2, previous: { version: 1, runId: handle.workflowId } });
    expect((await getModelVersion(env.store, spec.model, 1))?.aliases).toEqual([]);
    expect((await listModelVersions(env.store, spec.model)).map((v) => v.version)).toEqual([2, 1]);
    expect((await getAliasHistory(env.store, spec.model)).map((m) => [m.version, m.previous])).toEqual([
      [2, 1],
      [1, null],
    ]);
  });

  it('ends rejected when the approver rejects, and promotes nothing', async () => {
    const spec = penguinsSpec();
    const handle = await startPipeline(env, spec);
    await waitForStatus(handle, 'awaiting_approval');
    await decide(env, handle, { decision: 'reject', approver: 'bob', comment: 'not now' });
    const result = await handle.result();
    expect(result.status).toBe('rejected');
    expect(result.reason).toBe('rejected by bob: not now');
    const v = await getModelVersion(env.store, spec.model, 1);
    expect(v).toMatchObject({ status: 'rejected', aliases: [], approval: { approver: 'bob', decision: 'reject' } });
    expect((await getModel(env.store, spec.model))?.aliases.production).toBeUndefined();
    expect((await getRun(env.store, handle.workflowId))?.status).toBe('rejected');
    expect((await handle.describe()).typedSearchAttributes.get(RUN_STATUS)).toBe('rejected');
  });
});

describe('pipeline: regression and cancellation', () => {
  it('trains a regression model on the bundled auto-mpg JSONL and promotes it without approval', async () => {
    const spec = {
      model: `mpg-${Date.now()}`,
      dataset: { name: 'auto-mpg' },
      target: 'mpg',
      features: { drop: ['name'] },
      trainer: { epochs: 60, hidden: [16], learningRate: 0.01, patience: 0 },
      gates: { minR2: 0.6 },
      approval: { required: false },
    };
    const handle = await startPipeline(env, spec);
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.metrics).toMatchObject({ task: 'regression' });
    expect(result.metrics?.r2).toBeGreaterThan(0.6);
    expect(result.metrics?.rmse).toBeLessThan(5);
    const run = await getRun(env.store, handle.workflowId);
    expect(run).toMatchObject({ task: 'regression', dataset: { rows: 406, format: 'jsonl' } });
    const v = await getModelVersion(env.store, spec.model, 1);
    expect(v?.lineage).toMatchObject({ task: 'regression', target: 'mpg', datasetRows: 406 });
    expect(v?.optimisation).toMatchObject({ metricName: 'r2' });
  });

  it('runs the smallest spec as a user writes it (defaults filled in by the workflow)', async () => {
    const model = `smallest-${Date.now()}`;
    const handle = await startPipeline(
      env,
      { model, dataset: { name: 'penguins' }, target: 'species' },
      undefined,
      true
    );
    const pending = await waitForStatus(handle, 'awaiting_approval');
    expect(Date.parse(pending.pendingApproval!.deadline) - Date.parse(pending.pendingApproval!.requestedAt)).toBe(
      72 * 3600_000
    );
    const run = await getRun(env.store, handle.workflowId);
    expect(run?.spec).toMatchObject({
      trainer: { epochs: 60, model: 'mlp' },
      split: { test: 0.2 },
      approval: { timeout: 72 * 3600_000 },
    });
    await decide(env, handle, { decision: 'approve', approver: 'erin' });
    expect((await handle.result()).status).toBe('succeeded');
  });

  it('ends cancelled when the workflow is cancelled while awaiting approval', async () => {
    const handle = await startPipeline(env, penguinsSpec());
    await waitForStatus(handle, 'awaiting_approval');
    await handle.cancel();
    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const run = await getRun(env.store, handle.workflowId);
    expect(run).toMatchObject({ status: 'cancelled', stage: 'done' });
    expect((await handle.describe()).typedSearchAttributes.get(RUN_STATUS)).toBe('cancelled');
  });
});
