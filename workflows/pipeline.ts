// The ML lifecycle as one durable workflow:
//   ingest -> validate -> features (CPU) -> train (GPU) -> evaluate (CPU, vs the production champion)
//   -> quality gate -> register candidate (control) -> human approval (signal, timeout)
//   -> optimise int8 / prune (CPU) -> promote to `production` (control), directly or, with a
//   `deploy` block, through the rollout child workflow (workflows/rollout.ts).
// Deterministic: no I/O here, only activities, timers and state. Bytes never pass through this
// code (artifact references only). Every activity has an explicit retry policy and timeouts;
// bad input fails at once (non-retryable types); transient faults retry with backoff.
// The search attributes MlopsModel / MlopsStage / MlopsStatus follow every stage so Temporal UI
// can filter runs; the runs collection in MongoDB is written by activities at every change.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { ControlActivities, CpuActivities, GpuActivities } from '../activities';
import type { EvaluateResult, OptimiseResult, RegisterResult, TrainInput, TrainResult } from '../activities/types';
import { commandTraining } from './command-training';
import { distributedTraining } from './distributed-training';
import { hyperparameterSearch } from './hyperparameter-search';
import { rollout } from './rollout';
import { rolloutWorkflowId } from './rollout-messages';
import { evaluateGates, type GateResult } from '../lib/spec/gates';
import type { RunSpec, RunSpecInput } from '../lib/spec/schema';
import { MODEL_NAME, RUN_STATUS, STAGE } from '../lib/temporal/search-attributes';
import {
  approvalSignal,
  approvalUpdate,
  STAGES,
  statusQuery,
  type ApprovalAck,
  type ApprovalDecision,
  type PendingApproval,
  type PipelineStatus,
  type RunStatus,
  type Stage,
  type VouchedDecision,
} from './messages';
import { FAILURE, retryPolicy } from '../lib/workflow-safe/failures';
import type { RetrainTrigger } from '../lib/workflow-safe/lifecycle';

/** Tuning knobs for tests and operators; production runs use the defaults. */
export interface PipelineOptions {
  /** Heartbeat timeout of training (default 60s): how soon a dead GPU worker is noticed. */
  trainHeartbeatTimeout?: Duration;
  /** First retry delay of every activity (default 1s). */
  retryInitialInterval?: Duration;
  /** Training continues as new past this many history events (default 2000; tests lower it). */
  trainHistoryLimit?: number;
}

export interface PipelineInput {
  /** The run id; also the workflow id. */
  runId: string;
  /**
   * The run spec: parsed (parseRunSpec output) or as the user wrote it; the first step validates
   * it and fills in the defaults (an invalid spec fails the run at once).
   */
  spec: RunSpec | RunSpecInput;
  /** Task queue names (workflows cannot read the environment), suffixed with the region. */
  queues: { control: string; gpu: string; cpu: string };
  /** Region the run is confined to (workflows/interceptors.ts carries it to every activity). */
  region?: string;
  /**
   * Subject of the token that started the run: the requester, who may not decide on it (checked by
   * the API and again by the workflow; a run without one cannot be approved).
   */
  createdBy?: string;
  /** What started the run when the model's lifecycle workflow did (recorded with the run). */
  triggers?: RetrainTrigger[];
  options?: PipelineOptions;
}

export interface PipelineResult {
  runId: string;
  status: RunStatus;
  model: string;
  version: number | null;
  reason: string | null;
  metrics: Record<string, unknown> | null;
  promotion: { version: number; previousVersion: number | null; serving: string } | null;
  training: { epochsRun: number; resumedFromEpoch: number } | null;
}

function activities(input: PipelineInput) {
  const first = input.options?.retryInitialInterval ?? '1 second';
  const control: ActivityOptions = {
    taskQueue: input.queues.control,
    scheduleToStartTimeout: '1 hour',
    startToCloseTimeout: '1 minute',
    retry: retryPolicy(first, 10, '30 seconds'),
  };
  const data: ActivityOptions = {
    taskQueue: input.queues.cpu,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '2 minutes',
    retry: retryPolicy(first, 5),
  };
  const train: ActivityOptions = {
    taskQueue: input.queues.gpu,
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: input.options?.trainHeartbeatTimeout ?? '1 minute',
    retry: retryPolicy(first, 5),
  };
  const evaluate: ActivityOptions = {
    taskQueue: input.queues.cpu,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '5 minutes',
    retry: retryPolicy(first, 5),
  };
  // History writes (run document, workflow-level events) are short idempotent upserts: they run as
  // local activities in the control worker, which saves a server round trip per write.
  const history: LocalActivityOptions = {
    startToCloseTimeout: '30 seconds',
    retry: retryPolicy(first, 10, '30 seconds'),
  };
  return {
    control: proxyActivities<ControlActivities>(control),
    history: proxyLocalActivities<ControlActivities>(history),
    data: proxyActivities<CpuActivities>(data),
    gpu: proxyActivities<GpuActivities>(train),
    evaluate: proxyActivities<CpuActivities>(evaluate),
  };
}

/**
 * Why a decision cannot be taken now, or null: the cheap checks, shared by the update's validator
 * (so the caller hears the refusal) and its handler (the state may change while the signature is
 * checked). `fourEyes` is false only for the legacy signal, which never knew the requester.
 */
function approvalRefusal(
  d: ApprovalDecision | undefined,
  requester: string | undefined,
  status: RunStatus,
  decided: boolean,
  fourEyes = true
): string | null {
  if (status !== 'awaiting_approval') return `the run is ${status}, not awaiting_approval`;
  if (decided) return 'the run has been decided already';
  if (d?.decision !== 'approve' && d?.decision !== 'reject') return 'decision must be approve or reject';
  if (typeof d.approver !== 'string' || !d.approver) return 'approver is missing';
  if (!fourEyes) return null;
  if (!requester) return 'the run records no requester (start runs through the API), so four eyes cannot be checked';
  if (d.approver === requester) return `four eyes: ${requester} requested this run and may not decide on it`;
  return null;
}

function approvalRefused(message: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `Approval refused: ${message}`,
    type: FAILURE.ApprovalRefused,
    nonRetryable: true,
  });
}

/** The innermost cause's message of a failure chain (what the user needs to read). */
function rootMessage(err: unknown): { message: string; type?: string } {
  let e = err as { message?: string; cause?: unknown; type?: string } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return { message: e?.message ?? String(err), type: e?.type };
}

export async function pipeline(input: PipelineInput): Promise<PipelineResult> {
  const runId = input.runId || workflowInfo().workflowId;
  // Until startRun has validated it, the spec is only trusted for its model name.
  let spec = input.spec as RunSpec;
  const modelName = () => (typeof spec?.model === 'string' ? spec.model : 'unknown');
  const acts = activities(input);
  const startedAt = Date.now();

  const state: PipelineStatus = {
    runId,
    model: modelName(),
    status: 'running',
    stage: 'queued',
    progress: { completed: 0, total: STAGES.length - 1, fraction: 0 },
    pendingApproval: null,
    version: null,
    decision: null,
    reason: null,
    startedAt: new Date(startedAt).toISOString(),
    endedAt: null,
  };
  let decision: (ApprovalDecision & { at: number }) | null = null;

  setHandler(statusQuery, () => state);
  const takeDecision = (d: ApprovalDecision) => {
    decision = {
      decision: d.decision,
      approver: d.approver,
      comment: typeof d.comment === 'string' ? d.comment.slice(0, 2000) : undefined,
      at: Date.now(),
    };
  };
  // v3: decisions arrive as the `approve` update, vouched for by the API and checked again here,
  // so reaching Temporal is not enough to approve a run. Histories recorded before it replay with
  // the old signal (which trusted any approver).
  if (patched('approval-update-four-eyes')) {
    setHandler(
      approvalUpdate,
      async (d: VouchedDecision): Promise<ApprovalAck> => {
        // The signature check needs the keyring: the control worker does it (and audits a refusal).
        const verdict = await acts.history.verifyApproval({ runId, decision: d });
        if (!verdict.ok) throw approvalRefused(`the decision is not vouched for by the API (${verdict.reason})`);
        // Another decision may have been taken while this one was being checked.
        const late = approvalRefusal(d, input.createdBy, state.status, decision !== null);
        if (late) throw approvalRefused(late);
        takeDecision(d);
        return { runId, decision: d.decision, approver: d.approver };
      },
      {
        validator: (d: VouchedDecision) => {
          const refusal = approvalRefusal(d, input.createdBy, state.status, decision !== null);
          if (refusal) throw approvalRefused(refusal);
        },
      }
    );
  } else {
    setHandler(approvalSignal, (d: ApprovalDecision) => {
      // Only a decision on a pending approval counts; the first one wins.
      if (approvalRefusal(d, undefined, state.status, decision !== null, false)) return;
      takeDecision(d);
    });
  }

  const publish = () =>
    upsertSearchAttributes([
      { key: MODEL_NAME, value: modelName() },
      { key: STAGE, value: state.stage },
      { key: RUN_STATUS, value: state.status },
    ]);
  const enter = (stage: Stage) => {
    state.stage = stage;
    const i = STAGES.indexOf(stage as (typeof STAGES)[number]);
    const completed = Math.max(0, Math.min(i, state.progress.total));
    state.progress = { completed, total: state.progress.total, fraction: completed / state.progress.total };
    publish();
  };

  let training: TrainResult | null = null;
  let evaluation: EvaluateResult | null = null;
  let registered: RegisterResult | null = null;
  let promotion: PipelineResult['promotion'] = null;

  const result = (): PipelineResult => ({
    runId,
    status: state.status,
    model: spec.model,
    version: state.version,
    reason: state.reason,
    metrics: evaluation ? { ...evaluation.challenger } : null,
    promotion,
    training: training ? { epochsRun: training.epochsRun, resumedFromEpoch: training.resumedFromEpoch } : null,
  });

  const finish = async (status: RunStatus, reason: string | null, error?: { message: string; type?: string }) => {
    state.status = status;
    state.reason = reason;
    state.pendingApproval = null;
    const failedStage = state.stage;
    enter('done');
    state.progress = { ...state.progress, completed: state.progress.total, fraction: 1 };
    state.endedAt = new Date().toISOString();
    await acts.history.finishRun({
      runId,
      status,
      stage: 'done',
      startedAt,
      endedAt: Date.now(),
      error: error ? { ...error, stage: failedStage } : null,
      fields: reason && !error ? { reason } : undefined,
    });
    return result();
  };

  publish();
  try {
    const parsed = await acts.history.startRun({
      runId,
      spec,
      startedAt,
      createdBy: input.createdBy,
      triggers: input.triggers,
    });
    // v2: the spec is (re)validated by startRun, so a caller may pass the user's spec as written
    // (defaults are filled in there). Histories recorded before this change replay without it.
    if (patched('spec-parsed-in-start-run') && parsed) {
      spec = parsed;
      state.model = spec.model;
    }

    enter('ingest');
    const ingest = await acts.data.ingest({ runId, spec });
    enter('validate');
    const validation = await acts.data.validate({ runId, spec, ingest });
    enter('features');
    const features = await acts.data.buildFeatures({ runId, spec, ingest, validation });

    enter('train');
    const trainInput = {
      runId,
      spec,
      task: validation.task,
      features: features.features,
      train: features.train,
      datasetSha256: ingest.sha256,
    };
    // Data-parallel (trainer.workers > 1) and command trainers run as child workflows (issue 6);
    // specs without them take the original path, so existing histories replay unchanged.
    training =
      spec.trainer.type === 'command' || (spec.trainer.workers ?? 1) > 1 || !!spec.search
        ? await trainAsChild(runId, trainInput, input)
        : await acts.gpu.train(trainInput);

    enter('evaluate');
    evaluation = await acts.evaluate.evaluate({
      runId,
      spec,
      task: validation.task,
      onnx: training.onnx,
      test: features.test,
      train: features.train,
    });

    enter('gate');
    const gateStarted = Date.now();
    // v4: the champion comparison uses the rows neither model was trained on (evaluate reports
    // them); histories whose gate was decided on the whole test split replay with that rule.
    const heldOut = patched('gate-held-out-rows') ? evaluation.champion?.heldOut : undefined;
    const gate: GateResult = evaluateGates(
      spec.gates,
      evaluation.challenger,
      evaluation.champion?.metrics ?? null,
      heldOut
    );
    await acts.history.recordWorkflowStep({
      runId,
      step: 'gate',
      status: gate.passed ? 'completed' : 'failed',
      startedAt: gateStarted,
      endedAt: Date.now(),
      details: {
        passed: gate.passed,
        checks: gate.checks,
        champion: evaluation.champion?.version ?? null,
        ...(gate.heldOut ? { heldOut: gate.heldOut } : {}),
      },
      error: gate.passed ? undefined : gate.reason,
    });
    await acts.history.setRunState({ runId, fields: { gate } });
    if (!gate.passed) return await finish('failed_gate', gate.reason);

    enter('register');
    registered = await acts.control.registerCandidate({
      runId,
      spec,
      task: validation.task,
      features: features.features,
      ingest,
      train: training,
      evaluation,
      gate,
    });
    state.version = registered.version;

    let approver: string | null = null;
    if (spec.approval.required) {
      enter('approval');
      const requestedAt = Date.now();
      const deadline = requestedAt + spec.approval.timeout;
      const pending: PendingApproval = {
        model: spec.model,
        version: registered.version,
        requestedAt: new Date(requestedAt).toISOString(),
        deadline: new Date(deadline).toISOString(),
      };
      state.status = 'awaiting_approval';
      state.pendingApproval = pending;
      publish();
      await acts.history.setRunState({
        runId,
        status: 'awaiting_approval',
        stage: 'approval',
        fields: { pendingApproval: { version: registered.version, deadline } },
      });
      const decided = await condition(() => decision !== null, spec.approval.timeout);
      const d = decision as (ApprovalDecision & { at: number }) | null;
      state.pendingApproval = null;
      const outcome = decided && d ? d.decision : 'expired';
      await acts.history.recordDecision({
        runId,
        model: spec.model,
        version: registered.version,
        decision: outcome,
        approver: d?.approver ?? null,
        comment: d?.comment,
        requestedAt,
        deadline,
        decidedAt: d?.at ?? Date.now(),
      });
      await acts.history.recordWorkflowStep({
        runId,
        step: 'approval-wait',
        status: outcome === 'approve' ? 'completed' : 'failed',
        startedAt: requestedAt,
        endedAt: Date.now(),
        details: { decision: outcome, approver: d?.approver ?? null, version: registered.version },
        error:
          outcome === 'approve'
            ? undefined
            : outcome === 'reject'
              ? 'rejected by the approver'
              : 'no decision before the deadline',
      });
      if (d)
        state.decision = {
          decision: d.decision,
          approver: d.approver,
          comment: d.comment,
          at: new Date(d.at).toISOString(),
        };
      if (outcome === 'expired') {
        return await finish(
          'expired',
          `no approval decision within ${spec.approval.timeout} ms (deadline ${pending.deadline})`
        );
      }
      if (outcome === 'reject') {
        return await finish('rejected', `rejected by ${d?.approver}${d?.comment ? `: ${d.comment}` : ''}`);
      }
      approver = d?.approver ?? null;
      state.status = 'running';
      await acts.history.setRunState({ runId, status: 'running' });
    }

    let optimisation: OptimiseResult | null = null;
    if (spec.optimise.int8) {
      enter('optimise');
      optimisation = await acts.evaluate.optimise({
        runId,
        spec,
        task: validation.task,
        onnx: training.onnx,
        test: features.test,
        floatMetrics: evaluation.challenger,
      });
    }

    enter('promote');
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
        return await finish('failed', `rollout ${rolled.deploymentId} ${rolled.state}: ${rolled.reason}`);
      }
      promotion = { version: rolled.version, previousVersion: rolled.stable, serving: staged.serving.uri };
      return await finish('succeeded', null);
    }
    const promoted = await acts.control.promote(promoteInput);
    promotion = { version: promoted.version, previousVersion: promoted.previousVersion, serving: promoted.serving.uri };
    return await finish('succeeded', null);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        await finish('cancelled', 'the run was cancelled');
      });
      throw err;
    }
    const root = rootMessage(err);
    const failedAt = state.stage;
    await finish('failed', root.message, root);
    throw ApplicationFailure.create({
      message: `run ${runId} failed at ${failedAt}: ${root.message}`,
      type: root.type ?? FAILURE.PipelineFailed,
      nonRetryable: true,
      cause: err as Error,
    });
  }
}

/** Training through the fleet child workflows: hyperparameter search, data-parallel builtin, or the command trainer. */
async function trainAsChild(
  runId: string,
  t: {
    runId: string;
    spec: RunSpec;
    task: TrainInput['task'];
    features: TrainInput['features'];
    train: TrainInput['train'];
    datasetSha256: string;
  },
  input: PipelineInput
): Promise<TrainResult> {
  const options = {
    heartbeatTimeout: input.options?.trainHeartbeatTimeout,
    retryInitialInterval: input.options?.retryInitialInterval,
    historyLimit: input.options?.trainHistoryLimit,
  };
  const trainer = t.spec.trainer;
  if (t.spec.search) {
    // Hyperparameter search: the best trial's model goes on through evaluation and the gate.
    const r = await executeChild(hyperparameterSearch, {
      workflowId: `${runId}-search`,
      args: [{ ...t, queues: { control: input.queues.control, gpu: input.queues.gpu }, options }],
    });
    const best = r.best;
    if (best.train) return best.train;
    return {
      model: best.onnx!,
      onnx: best.onnx!,
      epochsRun: 0,
      resumedFromEpoch: 0,
      bestEpoch: 0,
      parameterCount: 0,
      final: best.metric === null ? null : { trainLoss: NaN, valLoss: NaN, valMetric: best.metric },
      attempt: 1,
    };
  }
  if (trainer.type === 'command') {
    const r = await executeChild(commandTraining, {
      workflowId: `${runId}-train`,
      args: [
        {
          train: {
            runId,
            trainer: { command: trainer.command ?? [], params: trainer.params, timeout: trainer.timeout },
            task: t.task,
            target: t.spec.target,
            features: t.features,
            shards: [t.train],
          },
          queues: { gpu: input.queues.gpu },
          options,
        },
      ],
    });
    const m = r.metrics;
    return {
      model: r.onnx,
      onnx: r.onnx,
      epochsRun: r.metricLines,
      resumedFromEpoch: 0,
      bestEpoch: r.metricLines,
      parameterCount: 0,
      final:
        m.valMetric !== undefined || m.valLoss !== undefined
          ? { trainLoss: m.trainLoss ?? NaN, valLoss: m.valLoss ?? NaN, valMetric: m.valMetric ?? NaN }
          : null,
      attempt: r.attempt,
    };
  }
  return executeChild(distributedTraining, {
    workflowId: `${runId}-train`,
    args: [{ ...t, queues: { gpu: input.queues.gpu }, options }],
  });
}
