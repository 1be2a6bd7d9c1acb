// The ML lifecycle as one durable workflow:
//   ingest -> validate -> features (CPU) -> train (GPU) -> evaluate (CPU, vs the production champion)
//   -> quality gate -> register candidate (control) -> human approval (signal, timeout)
//   -> optimise int8 / prune (CPU) -> promote to `production` (control), directly or, with a
//   `deploy` block, through the rollout child workflow (workflows/rollout.ts).
// Deterministic: no I/O here, only activities, timers and state. Bytes never pass through this
// code (artifact references only). Every activity has an explicit retry policy and timeouts
// (activities.ts); bad input fails at once (non-retryable types); transient faults retry with
// backoff. The search attributes MlopsModel / MlopsStage / MlopsStatus follow every stage
// (state.ts) so Temporal UI can filter runs; the runs collection in MongoDB is written by
// activities at every change. The parts: state.ts (the run's state and its query), approval.ts,
// training.ts (activity or child workflow), gate.ts, result.ts (how a run ends).
import { executeChild, ParentClosePolicy, patched, workflowInfo } from '@temporalio/workflow';
import type { OptimiseResult } from '../../activities/types';
import type { RunSpec } from '../../lib/spec/schema';
import { rollout } from '../rollout';
import { rolloutWorkflowId } from '../rollout-messages';
import { pipelineActivities, type PipelineActivities } from './activities';
import { acceptDecisions, awaitApproval } from './approval';
import { qualityGate } from './gate';
import { finish, finishWithError } from './result';
import { enter, publish, startRunState, type RunState } from './state';
import { train } from './training';
import type { PipelineInput, PipelineResult } from './types';

export type { PipelineInput, PipelineOptions, PipelineResult } from './types';

export async function pipeline(input: PipelineInput): Promise<PipelineResult> {
  const runId = input.runId || workflowInfo().workflowId;
  const acts = pipelineActivities(input);
  const run = startRunState(runId, input.spec as RunSpec, Date.now());
  acceptDecisions(run, acts, input.createdBy);
  publish(run);
  try {
    return await stages(run, acts, input);
  } catch (err) {
    throw await finishWithError(run, acts, err);
  }
}

/** The stages in order; returns through finish() however the run ends short of an error. */
async function stages(run: RunState, acts: PipelineActivities, input: PipelineInput): Promise<PipelineResult> {
  const { runId } = run;
  const parsed = await acts.history.startRun({
    runId,
    spec: run.spec,
    startedAt: run.startedAt,
    createdBy: input.createdBy,
    triggers: input.triggers,
  });
  // v2: the spec is (re)validated by startRun, so a caller may pass the user's spec as written
  // (defaults are filled in there). Histories recorded before this change replay without it.
  if (patched('spec-parsed-in-start-run') && parsed) {
    run.spec = parsed;
    run.view.model = parsed.model;
  }
  const spec = run.spec;

  enter(run, 'ingest');
  const ingest = await acts.data.ingest({ runId, spec });
  enter(run, 'validate');
  const validation = await acts.data.validate({ runId, spec, ingest });
  enter(run, 'features');
  const features = await acts.data.buildFeatures({ runId, spec, ingest, validation });

  enter(run, 'train');
  const training = await train(input, acts, {
    runId,
    spec,
    task: validation.task,
    features: features.features,
    train: features.train,
    datasetSha256: ingest.sha256,
  });
  run.training = training;

  enter(run, 'evaluate');
  const evaluation = await acts.evaluate.evaluate({
    runId,
    spec,
    task: validation.task,
    onnx: training.onnx,
    test: features.test,
    train: features.train,
  });
  run.evaluation = evaluation;

  enter(run, 'gate');
  const gate = await qualityGate(run, acts, evaluation);
  if (!gate.passed) return await finish(run, acts, 'failed_gate', gate.reason);

  enter(run, 'register');
  const registered = await acts.control.registerCandidate({
    runId,
    spec,
    task: validation.task,
    features: features.features,
    ingest,
    train: training,
    evaluation,
    gate,
  });
  run.view.version = registered.version;

  let approver: string | null = null;
  if (spec.approval.required) {
    const approval = await awaitApproval(run, acts, registered.version);
    if (!approval.approved) return await finish(run, acts, approval.status, approval.reason);
    approver = approval.approver;
  }

  let optimisation: OptimiseResult | null = null;
  if (spec.optimise.int8) {
    enter(run, 'optimise');
    optimisation = await acts.evaluate.optimise({
      runId,
      spec,
      task: validation.task,
      onnx: training.onnx,
      test: features.test,
      floatMetrics: evaluation.challenger,
    });
  }

  enter(run, 'promote');
  const promoteInput = { runId, model: spec.model, version: registered.version, optimisation, approver };
  // v4: a spec with `deploy` reaches production through the rollout workflow (canary, blue-green
  // or shadow); histories recorded before it, and specs without `deploy`, promote directly.
  if (spec.deploy && patched('deploy-rollout')) {
    const staged = await acts.control.stageServing(promoteInput);
    const rolled = await executeChild(rollout, {
      workflowId: rolloutWorkflowId(spec.model),
      taskQueue: input.queues.control,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL, // a cancelled run rolls its rollout back
      args: [
        {
          deploymentId: `${runId}-deploy`,
          model: spec.model,
          version: registered.version,
          deploy: spec.deploy,
          requestedBy: input.createdBy ?? `pipeline:${runId}`,
          runId,
          queues: { control: input.queues.control },
        },
      ],
    });
    if (rolled.state !== 'succeeded') {
      return await finish(run, acts, 'failed', `rollout ${rolled.deploymentId} ${rolled.state}: ${rolled.reason}`);
    }
    run.promotion = { version: rolled.version, previousVersion: rolled.stable, serving: staged.serving.uri };
    return await finish(run, acts, 'succeeded', null);
  }
  const promoted = await acts.control.promote(promoteInput);
  run.promotion = {
    version: promoted.version,
    previousVersion: promoted.previousVersion,
    serving: promoted.serving.uri,
  };
  return await finish(run, acts, 'succeeded', null);
}
