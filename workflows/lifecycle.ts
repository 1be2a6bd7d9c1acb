// One workflow per model (`lifecycle-<model>`) decides on every retraining trigger: schedule,
// new data, commit, drift. All senders signal-with-start it (lib/lifecycle/trigger.ts), so
// triggers sent together reach one place, where they are coalesced into one decision:
//   1. no retrain policy, or the trigger's kind is not enabled in it -> skipped;
//   2. the data (dataset sha256, plus the commit sha for commit triggers) was trained on
//      before -> skipped: the same data never starts a second run;
//   3. a run started less than `cooldown` ago, or `maxPerDay` runs started this UTC day ->
//      deferred: the triggers are kept and decided again when the wait is over (none is lost);
//   4. else the policy's spec starts as a child `pipeline` run (abandoned on close, so it
//      outlives a continue-as-new) carrying the triggers as its lineage; the workflow waits for
//      it, so triggers arriving meanwhile coalesce into the next decision. Data counts as
//      trained on once a model came out of it (succeeded, failed_gate, rejected, expired): a run
//      that failed or was cancelled (it ends by throwing) forgets its key, so the next trigger
//      on the same data retrains, bounded by the cooldown and budget.
// Every decision is recorded with its reason (lifecycle_decisions + audit). The workflow
// continues as new after a number of decisions, carrying its small state, so it stays small.
import {
  ParentClosePolicy,
  condition,
  continueAsNew,
  defineSignal,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  uuid4,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { ControlActivities, CpuActivities } from '../activities';
import type { LifecycleOutcome } from '../lib/store/lifecycle-decisions';
import type { RetrainPolicy } from '../lib/spec/policy';
import { MODEL_NAME, RUN_STATUS, STAGE } from '../lib/workflow-safe/search-attributes';
import { retryPolicy } from '../lib/workflow-safe/failures';
import { RETRAIN_TRIGGER_SIGNAL, type RetrainTrigger } from '../lib/workflow-safe/lifecycle';
import type { PipelineInput, PipelineResult } from './pipeline';

export const retrainTriggerSignal = defineSignal<[RetrainTrigger]>(RETRAIN_TRIGGER_SIGNAL);

/** Kept across continue-as-new: enough to apply the rules, bounded in size. */
export interface LifecycleState {
  pending: RetrainTrigger[];
  /** Data keys already trained on ("<sha256>" or "<sha256>+<commit sha>"), newest last. */
  trained: string[];
  /** Start times (epoch ms) of the runs started, newest last (the daily budget and cooldown). */
  starts: number[];
  /** Decisions taken over the workflow's whole life (ids of the decision documents). */
  seq: number;
}

export interface LifecycleOptions {
  /** How long triggers are gathered before a decision (default 2 s): ones sent together coalesce. */
  coalesceMs?: number;
  /** Continue as new after this many decisions (default 200). */
  decisionsPerRun?: number;
  retryInitialInterval?: Duration;
}

export interface LifecycleInput {
  model: string;
  state?: LifecycleState;
  options?: LifecycleOptions;
}

const MAX_PENDING = 100;
const MAX_TRAINED = 200;
const DAY_MS = 86_400_000;

/** The triggers the policy enables, and why the others are ignored. */
export function enabledTriggers(
  policy: RetrainPolicy,
  triggers: RetrainTrigger[]
): { enabled: RetrainTrigger[]; ignored: string[] } {
  const enabled: RetrainTrigger[] = [];
  const ignored: string[] = [];
  for (const t of triggers) {
    const why =
      t.kind === 'schedule'
        ? policy.schedule
          ? null
          : 'the policy has no retrain.schedule'
        : t.kind === 'data'
          ? policy.onData?.dataset === t.dataset
            ? null
            : `the policy does not retrain on dataset '${t.dataset}'`
          : t.kind === 'commit'
            ? policy.onCommit && policy.onCommit.branch === t.branch && policy.onCommit.repository === t.repository
              ? null
              : `the policy does not retrain on commits to ${t.repository} '${t.branch}'`
            : policy.onDrift
              ? null
              : 'retrain.onDrift is false';
    if (why) ignored.push(`${t.kind}: ${why}`);
    else enabled.push(t);
  }
  return { enabled, ignored };
}

/** Milliseconds to wait before another run may start (0 = now), and why. */
export function waitBeforeStart(policy: RetrainPolicy, starts: number[], now: number): { ms: number; why: string } {
  const last = starts[starts.length - 1];
  if (last !== undefined && now - last < policy.cooldown) {
    return { ms: policy.cooldown - (now - last), why: `cooldown: the last run started ${now - last} ms ago` };
  }
  const dayStart = now - (now % DAY_MS);
  const today = starts.filter((s) => s >= dayStart).length;
  if (today >= policy.maxPerDay) {
    return {
      ms: dayStart + DAY_MS - now,
      why: `daily budget: ${today} of ${policy.maxPerDay} run(s) started today (UTC)`,
    };
  }
  return { ms: 0, why: '' };
}

export async function modelLifecycle(input: LifecycleInput): Promise<void> {
  const { model } = input;
  const opts = input.options ?? {};
  const state: LifecycleState = input.state ?? { pending: [], trained: [], starts: [], seq: 0 };
  const first = opts.retryInitialInterval ?? '1 second';
  const control: ActivityOptions = { startToCloseTimeout: '1 minute', retry: retryPolicy(first, 20, '1 minute') };
  const acts = proxyActivities<ControlActivities>(control);
  let decisionsHere = 0;

  setHandler(retrainTriggerSignal, (t: RetrainTrigger) => {
    state.pending.push(t);
    // Coalesced anyway: a flood keeps the newest, which carry the newest hashes and shas.
    if (state.pending.length > MAX_PENDING) state.pending.splice(0, state.pending.length - MAX_PENDING);
  });

  const decide = async (
    outcome: LifecycleOutcome,
    reason: string,
    triggers: RetrainTrigger[],
    extra: { runId?: string; datasetSha256?: string } = {}
  ) => {
    state.seq += 1;
    decisionsHere += 1;
    await acts.recordLifecycleDecision({ model, seq: state.seq, outcome, reason, triggers, at: Date.now(), ...extra });
  };

  for (;;) {
    if (decisionsHere >= (opts.decisionsPerRun ?? 200) || workflowInfo().continueAsNewSuggested) {
      // Signals not yet handled are delivered to the next run by Temporal; `pending` travels here.
      await continueAsNew<typeof modelLifecycle>({ model, state, options: input.options });
    }
    await condition(() => state.pending.length > 0);
    await sleep(opts.coalesceMs ?? 2_000);
    const batch = state.pending.splice(0);

    const ctx = await acts.lifecycleContext({ model });
    const policy = ctx.retrain;
    if (!policy) {
      await decide('skipped', `model '${model}' has no retrain policy (PUT /v1/models/${model}/policy)`, batch);
      continue;
    }
    const { enabled, ignored } = enabledTriggers(policy, batch);
    if (!enabled.length) {
      await decide('skipped', ignored.join('; '), batch);
      continue;
    }

    const wait = waitBeforeStart(policy, state.starts, Date.now());
    if (wait.ms > 0) {
      await decide('deferred', `${wait.why}; decided again in ${wait.ms} ms`, enabled);
      state.pending.unshift(...enabled);
      await sleep(wait.ms);
      continue;
    }

    const data = [...enabled].reverse().find((t) => t.kind === 'data');
    const sha256 =
      data?.kind === 'data'
        ? data.sha256
        : (
            await proxyActivities<CpuActivities>({
              ...control,
              taskQueue: ctx.queues.cpu,
              startToCloseTimeout: '30 minutes',
              heartbeatTimeout: undefined,
            }).fingerprintDataset({ spec: policy.spec })
          ).sha256;
    const commits = enabled.filter((t) => t.kind === 'commit');
    const commit = commits[commits.length - 1];
    const key = commit?.kind === 'commit' ? `${sha256}+${commit.sha}` : sha256;
    const seen = state.trained.includes(key) || (!commit && ctx.productionSha256 === sha256);
    if (seen) {
      const what =
        commit?.kind === 'commit' ? `dataset sha256 ${sha256} at commit ${commit.sha}` : `dataset sha256 ${sha256}`;
      await decide('skipped', `${what} was trained on already; the same data never starts a run`, enabled, {
        datasetSha256: sha256,
      });
      continue;
    }

    const runId = `run-${uuid4()}`;
    const child: PipelineInput = {
      runId,
      spec: policy.spec,
      queues: ctx.queues,
      region: policy.spec.region,
      createdBy: `lifecycle:${model}`,
      triggers: enabled,
    };
    const handle = await startChild('pipeline', {
      workflowId: runId,
      taskQueue: ctx.queues.control,
      args: [child],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: MODEL_NAME, value: model },
        { key: STAGE, value: 'queued' },
        { key: RUN_STATUS, value: 'running' },
      ],
    });
    state.starts = [...state.starts.filter((s) => s >= Date.now() - DAY_MS), Date.now()];
    state.trained = [...state.trained, key].slice(-MAX_TRAINED);
    await decide('started', `${enabled.map((t) => t.kind).join(', ')} trigger(s) on new data`, enabled, {
      runId,
      datasetSha256: sha256,
    });
    let outcome: string;
    try {
      const r = (await handle.result()) as PipelineResult;
      outcome = `run ${runId} ended ${r.status}${r.reason ? `: ${r.reason}` : ''}`;
    } catch (err) {
      outcome = `run ${runId} failed: ${(err as Error).message}`;
      // No model came out, so the data was not trained on. Histories recorded before kept the key.
      if (patched('lifecycle-forget-data-of-failed-run')) {
        state.trained = state.trained.filter((k) => k !== key);
        outcome += `; no model came out, so a later trigger on the same data retrains`;
      }
    }
    await decide('finished', outcome, enabled, { runId, datasetSha256: sha256 });
  }
}
