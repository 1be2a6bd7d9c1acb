// Runs that must end without a promotion: approval timeout, bad data (fails fast, no retries,
// nothing registered), a path outside the datasets root, and a failed quality gate.
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { getRunEvents } from '../../../lib/store/events';
import { getModel, getVersionByRun } from '../../../lib/store/models';
import { getRun } from '../../../lib/store/runs';
import { getValidationReport } from '../../../lib/store/reports';
import { statusQuery } from '../../../workflows/messages';
import { penguinsSpec, pipelineEnv, startPipeline, type PipelineEnv } from './helpers';

const root = mkdtempSync(path.join(os.tmpdir(), 'mlops-datasets-'));
let env: PipelineEnv;
beforeAll(async () => {
  const lines = ['a,b,label'];
  for (let i = 0; i < 60; i++) lines.push(`${i},${(i * 7) % 11},${i % 2 ? 'yes' : 'no'}`);
  lines[42] = '41,seven,yes'; // line 43: text in a numeric column
  writeFileSync(path.join(root, 'bad-cell.csv'), lines.join('\n') + '\n');
  symlinkSync('/etc/passwd', path.join(root, 'escape.csv'));
  writeFileSync(path.join(root, 'binary.csv'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00, 0xff]));
  env = await pipelineEnv({ env: { MLOPS_DATASETS_DIR: root } });
});
afterAll(async () => {
  await env?.close();
});

async function failure(handle: { result(): Promise<unknown> }): Promise<ApplicationFailure> {
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}

async function expectFailedFast(runId: string, step: string, model: string) {
  const events = await getRunEvents(env.store, runId);
  const attempts = events.filter((e) => e.step === step);
  expect(attempts).toHaveLength(1); // no retries
  expect(attempts[0]).toMatchObject({ attempt: 1, status: 'failed', error: { retryable: false } });
  expect(events.map((e) => e.step)).not.toContain('train');
  expect(await getVersionByRun(env.store, runId)).toBeNull();
  expect(await getModel(env.store, model)).toBeNull();
  expect((await getRun(env.store, runId))?.status).toBe('failed');
}

describe('pipeline: runs that end without promotion', () => {
  it('expires when nobody decides before the approval timeout', async () => {
    const spec = penguinsSpec({ approval: { timeout: '2s' } });
    const handle = await startPipeline(env, spec);
    const result = await handle.result();
    expect(result.status).toBe('expired');
    expect(result.reason).toMatch(/no approval decision within 2000 ms/);
    expect(await getRun(env.store, handle.workflowId)).toMatchObject({
      status: 'expired',
      approval: { decision: 'expired' },
    });
    expect((await getVersionByRun(env.store, handle.workflowId))?.status).toBe('expired');
    expect((await getModel(env.store, spec.model))?.aliases.production).toBeUndefined();
  });

  it('fails fast on a non-numeric cell, naming the column and line, with nothing registered', async () => {
    const spec = penguinsSpec({ dataset: { path: 'bad-cell.csv' }, target: 'label' });
    const handle = await startPipeline(env, spec, { retryInitialInterval: '5 seconds' });
    // One attempt (expectFailedFast), so no 5 s backoff happened.
    const cause = await failure(handle);
    expect(cause.message).toMatch(
      /failed at validate: dataset validation failed: column 'b' is numeric but has 1 non-numeric value\(s\) \(line 43: "seven"\)/
    );
    await expectFailedFast(handle.workflowId, 'validate', spec.model as string);
    const report = await getValidationReport(env.store, handle.workflowId);
    expect(report?.errors[0]).toMatchObject({ code: 'non_numeric_value', column: 'b', line: 43 });
    expect((await handle.query(statusQuery)).status).toBe('failed');
  });

  it('fails fast on a binary (corrupt) file', async () => {
    const spec = penguinsSpec({ dataset: { path: 'binary.csv' }, target: 'label' });
    const handle = await startPipeline(env, spec, { retryInitialInterval: '5 seconds' });
    const cause = await failure(handle);
    expect(cause.message).toMatch(/failed at ingest: the file has NUL bytes/);
    await expectFailedFast(handle.workflowId, 'ingest', spec.model as string);
  });

  it('refuses a dataset path outside the datasets root: in the spec, and through a symlink at ingest', async () => {
    const dotdot = penguinsSpec({ dataset: { path: '../../etc/passwd' }, target: 'x' });
    const refused = await startPipeline(env, dotdot, { retryInitialInterval: '5 seconds' }, true);
    expect((await failure(refused)).message).toMatch(
      /failed at queued: Invalid run spec: dataset.path: dataset path '..\/..\/etc\/passwd' is outside the datasets root/
    );
    expect((await getRunEvents(env.store, refused.workflowId)).map((e) => e.step)).not.toContain('ingest');

    const spec = penguinsSpec({ dataset: { path: 'escape.csv' }, target: 'x' });
    const handle = await startPipeline(env, spec, { retryInitialInterval: '5 seconds' });
    expect((await failure(handle)).message).toMatch(/dataset path 'escape.csv' leads outside the datasets root/);
    await expectFailedFast(handle.workflowId, 'ingest', spec.model as string);
  });

  it('fails fast on an invalid spec passed as written, naming the field', async () => {
    const spec = { model: 'bad-spec', dataset: { name: 'penguins' }, target: 'species', trainer: { epochs: 0 } };
    const handle = await startPipeline(env, spec, { retryInitialInterval: '5 seconds' }, true);
    const cause = await failure(handle);
    expect(cause.message).toMatch(/failed at queued: Invalid run spec: trainer.epochs/);
    const run = await getRun(env.store, handle.workflowId);
    expect(run).toMatchObject({ status: 'failed', model: 'bad-spec' });
    expect(await getModel(env.store, 'bad-spec')).toBeNull();
  });

  it('ends failed_gate below its gates, with the reason recorded and nothing registered', async () => {
    const spec = penguinsSpec({ dataset: { name: 'penguins' }, gates: { minAccuracy: 0.999, minMacroF1: 0.9995 } });
    spec.trainer = { epochs: 2, learningRate: 0.001, hidden: [2], patience: 0 };
    const handle = await startPipeline(env, spec);
    const result = await handle.result();
    expect(result.status).toBe('failed_gate');
    expect(result.reason).toMatch(/fails minAccuracy 0.999/);
    const run = await getRun(env.store, handle.workflowId);
    expect(run).toMatchObject({ status: 'failed_gate', gate: { passed: false } });
    expect(await getVersionByRun(env.store, handle.workflowId)).toBeNull();
    const gate = (await getRunEvents(env.store, handle.workflowId)).find((e) => e.step === 'gate');
    expect(gate).toMatchObject({ status: 'failed', queue: 'workflow' });
  });
});
