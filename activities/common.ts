// What every pipeline activity shares: its dependencies, one-time index creation, the step
// recorder (a run event per attempt with its duration, and the run's current stage), and the
// error classification that turns bad input into non-retryable failures.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Registry } from 'prom-client';
import type { Config } from '../lib/config';
import type { ExecutionProvider } from '../lib/hardware/execution-provider';
import { DatasetPathError, DatasetReadError } from '../lib/ml/dataset';
import { CsvParseError } from '../lib/ml/dataset/csv';
import { MlInputError } from '../lib/ml/errors';
import { PACKAGE_ROOT } from '../lib/package-root';
import { RunSpecError } from '../lib/spec';
import { ResidencyError } from '../lib/spec/residency';
import { ArtifactIntegrityError } from '../lib/store/artifacts';
import { ModelSignatureError } from '../lib/store/models';
import { ServedModelNotFoundError } from '../lib/store/served-model';
import { BatchInputError } from '../lib/batch/errors';
import { FeatureDataError } from '../lib/features/csv-records';
import type { Store } from '../lib/store/db';
import { recordStepEnd, recordStepStart } from '../lib/store/events';
import { ensurePipelineIndexes } from '../lib/store/pipeline';
import { updateRun } from '../lib/store/runs';
import { FAILURE, type FailureType } from '../lib/workflow-safe/failures';

/** Test-only hooks (integration tests use them to slow training or force a retry). */
export interface TestHooks {
  /** Awaited after each training epoch (e.g. a delay so a test can kill the worker mid-training). */
  afterEpoch?(epoch: number, runId: string): Promise<void> | void;
  /** Called after registration wrote the version; throwing here forces an activity retry. */
  afterRegister?(attempt: number, runId: string): Promise<void> | void;
  /** Awaited before each data-parallel shard (the fleet tests kill a worker mid-round). */
  beforeShard?(round: number, index: number): Promise<void> | void;
  /** Awaited before each slice of a batch-inference chunk (the batch tests kill a worker mid-chunk). */
  beforeBatchRows?(chunk: number, offset: number): Promise<void> | void;
  /** Awaited after a feature partition is written, before it is recorded (kill-mid-way tests). */
  afterFeaturePartition?(partition: { start: number; end: number }): Promise<void> | void;
}

export interface ActivityDeps {
  cfg: Config;
  store: Store;
  /** The GPU fleet's choice (lib/hardware/execution-provider.ts); default the CPU. */
  executionProvider?: ExecutionProvider;
  hooks?: TestHooks;
  /** The worker's metrics registry (its /metrics endpoint), for gauges activities set. */
  registry?: Registry;
}

const indexed = new WeakMap<object, Promise<void>>();
/** Creates the pipeline's indexes once per store per process. */
export function ensureIndexesOnce(store: Store): Promise<void> {
  let p = indexed.get(store.db);
  if (!p) {
    p = ensurePipelineIndexes(store.db).catch((err) => {
      indexed.delete(store.db);
      throw err;
    });
    indexed.set(store.db, p);
  }
  return p;
}

/** Bad-input errors and the failure type each becomes: retrying cannot fix any of them. */
const BAD_INPUT: [new (...args: never[]) => Error, FailureType][] = [
  [DatasetReadError, FAILURE.DatasetError],
  [DatasetPathError, FAILURE.DatasetError],
  [CsvParseError, FAILURE.DatasetError],
  [MlInputError, FAILURE.MlInputError],
  [ResidencyError, FAILURE.RegionMismatch],
  [RunSpecError, FAILURE.RunSpecError],
  [ArtifactIntegrityError, FAILURE.ArtifactIntegrityError],
  [ModelSignatureError, FAILURE.ModelSignatureError],
  [ServedModelNotFoundError, FAILURE.ServedModelNotFoundError],
  [BatchInputError, FAILURE.BatchInputError],
  [FeatureDataError, FAILURE.DatasetError],
];

/** Maps known bad-input errors to non-retryable failures whose message says what to fix. */
export function classify(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  // Each class is marked (markErrorClass), so instanceof holds for one thrown by another realm's copy.
  const type = BAD_INPUT.find(([cls]) => err instanceof cls)?.[1];
  return type ? ApplicationFailure.create({ message: (err as Error).message, type, nonRetryable: true }) : err;
}

/** Which attempt this is and where it runs: the run's record of where each step ran. */
function attemptInfo(deps: ActivityDeps): { attempt: number; queue: string; worker: string; region: string } {
  const where = { worker: `${os.hostname()}/${process.pid}`, region: deps.cfg.MLOPS_WORKER_REGION ?? '' };
  try {
    const info = Context.current().info;
    return { attempt: info.attempt, queue: info.taskQueue, ...where };
  } catch {
    return { attempt: 1, queue: 'local', ...where }; // called outside an activity (unit tests)
  }
}

/**
 * Runs one pipeline step as a recorded attempt: a `started` event, the run's stage, then
 * `completed` (with duration and summary details) or `failed` (with the classified error).
 */
export async function tracked<T>(
  deps: ActivityDeps,
  runId: string,
  step: string,
  fn: () => Promise<T>,
  summarise?: (result: T) => Record<string, unknown>,
  opts: { autoHeartbeat?: boolean } = {}
): Promise<T> {
  // Liveness heartbeats while the step awaits I/O (steps with progress details heartbeat themselves).
  const timer = opts.autoHeartbeat === false ? undefined : setInterval(() => heartbeat(), 5_000);
  try {
    return await trackedInner(deps, runId, step, fn, summarise);
  } finally {
    if (timer) clearInterval(timer);
  }
}

async function trackedInner<T>(
  deps: ActivityDeps,
  runId: string,
  step: string,
  fn: () => Promise<T>,
  summarise?: (result: T) => Record<string, unknown>
): Promise<T> {
  await ensureIndexesOnce(deps.store);
  const { attempt, ...where } = attemptInfo(deps);
  const startedAt = new Date();
  await recordStepStart(deps.store, { runId, step, attempt, ...where, at: startedAt });
  await updateRun(deps.store, runId, { stage: step });
  try {
    const result = await fn();
    await recordStepEnd(deps.store, {
      runId,
      step,
      attempt,
      status: 'completed',
      startedAt,
      ...where,
      details: summarise?.(result),
    });
    return result;
  } catch (err) {
    const c = classify(err);
    const failure = c as { message?: string; type?: string; nonRetryable?: boolean; name?: string };
    await recordStepEnd(deps.store, {
      runId,
      step,
      attempt,
      status: 'failed',
      startedAt,
      ...where,
      error: {
        message: String(failure?.message ?? c),
        type: failure?.type ?? failure?.name,
        retryable: !(c instanceof ApplicationFailure && c.nonRetryable),
      },
    }).catch(() => undefined); // the store may be the thing that failed
    throw c;
  }
}

/** Heartbeats (with the given details) from activities; a no-op outside one. */
export function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* not in an activity */
  }
}

export function cancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

export function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

let codeVersionMemo: string | undefined;
/** package version + git commit (when the checkout has one), recorded in model lineage. */
export function codeVersion(): string {
  if (codeVersionMemo) return codeVersionMemo;
  const root = PACKAGE_ROOT;
  let version = '0.0.0';
  try {
    version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* keep default */
  }
  let commit = '';
  try {
    const head = readFileSync(path.join(root, '.git', 'HEAD'), 'utf8').trim();
    commit = head.startsWith('ref: ') ? readFileSync(path.join(root, '.git', head.slice(5)), 'utf8').trim() : head;
  } catch {
    /* not a git checkout (container image) */
  }
  codeVersionMemo = commit ? `${version}+${commit.slice(0, 12)}` : version;
  return codeVersionMemo;
}
