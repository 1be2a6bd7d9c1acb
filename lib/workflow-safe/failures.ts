// The failure vocabulary that activities and workflows share, in one place. Activities throw
// (or classify() turns errors into) ApplicationFailures of these types; every workflow's retry
// policy names the same list, so a type that means "bad input, fix it and start again" is never
// retried by one workflow and retried ten times by another. Pure and deterministic: workflows
// import it (eslint.config.mjs allows lib/workflow-safe/ in workflow code).
import type { Duration, RetryPolicy } from '@temporalio/common';

/** Every non-retryable failure type, with what it means to the user. */
export const FAILURE = {
  /** The dataset cannot be read or parsed (missing file, bad CSV, path outside the root). */
  DatasetError: 'DatasetError',
  /** The dataset was read but fails validation (schema, empty split, unknown target). */
  DatasetValidationError: 'DatasetValidationError',
  /** The data or model does not fit the ML code's contract (wrong columns, shapes, values). */
  MlInputError: 'MlInputError',
  /** The run spec is invalid in a way the API could not see (e.g. a search without a block). */
  RunSpecError: 'RunSpecError',
  /** Stored bytes do not match their content hash: retrying reads the same corrupt bytes. */
  ArtifactIntegrityError: 'ArtifactIntegrityError',
  /** A model version's signature does not verify: it must not be loaded, however often asked. */
  ModelSignatureError: 'ModelSignatureError',
  /** A worker of one region refused an activity of a run in another (data residency). */
  RegionMismatch: 'RegionMismatch',
  /** The command trainer was given input it cannot use. */
  CommandTrainerBadInput: 'CommandTrainerBadInput',
  /** The command trainer finished but its output breaks the contract (no ONNX, not ONNX). */
  CommandTrainerBadOutput: 'CommandTrainerBadOutput',
  /** An approval the workflow refused (self-approval, no valid voucher, not awaiting approval). */
  ApprovalRefused: 'ApprovalRefused',
  /** The served model named by a batch job or an inference request does not exist. */
  ServedModelNotFoundError: 'ServedModelNotFoundError',
  /** A batch input file cannot be scored as given (missing column, broken quoting, empty). */
  BatchInputError: 'BatchInputError',
  /** More rows of a batch job failed than its maxErrorRate allows. */
  BatchErrorRateExceeded: 'BatchErrorRateExceeded',
  /** A batch job failed for a reason that carries no type of its own. */
  BatchFailed: 'BatchFailed',
  /** Every trial of a hyperparameter search failed (the search workflow's own failure). */
  SearchFailed: 'SearchFailed',
  /** A rollout cannot start or go on as asked (unknown version, already production, bad split). */
  DeploymentError: 'DeploymentError',
  /** An alias a rollout was to move by compare-and-set is held by another version than expected. */
  DeploymentConflict: 'DeploymentConflict',
  /** A rollout override the workflow refused (four eyes, no valid voucher, not allowed in this state). */
  OverrideRefused: 'OverrideRefused',
  /** A stored drift sketch was made on other bins than the version's reference profile. */
  DriftSketchMismatch: 'DriftSketchMismatch',
  /** A pipeline run failed for a reason that carries no type of its own. */
  PipelineFailed: 'PipelineFailed',
} as const;

export type FailureType = (typeof FAILURE)[keyof typeof FAILURE];

export const NON_RETRYABLE_TYPES: readonly FailureType[] = Object.values(FAILURE);

/** The retry policy of every activity: exponential backoff, and never retry bad input. */
export function retryPolicy(
  initialInterval: Duration,
  maximumAttempts: number,
  maximumInterval: Duration = '1 minute'
): RetryPolicy {
  return {
    initialInterval,
    backoffCoefficient: 2,
    maximumInterval,
    maximumAttempts,
    nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
  };
}
