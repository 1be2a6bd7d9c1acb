// The status vocabularies: of a run (workflow state, run documents, API, CLI), a model version
// (registry), a batch prediction, a rollout and a feature materialization. One definition, pure, so
// workflow code, the store, the API and the CLI cannot drift apart.

export const RUN_STATUSES = [
  'running',
  'awaiting_approval',
  'succeeded',
  'failed',
  'failed_gate',
  'rejected',
  'expired',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses a run never leaves. */
export const TERMINAL_STATUSES: readonly RunStatus[] = RUN_STATUSES.filter(
  (s) => s !== 'running' && s !== 'awaiting_approval'
);

export function isTerminalStatus(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export const VERSION_STATUSES = ['candidate', 'approved', 'rejected', 'expired', 'promoted'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const BATCH_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
/** Statuses a batch prediction never leaves. */
export const BATCH_TERMINAL: readonly BatchStatus[] = ['succeeded', 'failed', 'cancelled'];

export const DEPLOYMENT_STATES = ['progressing', 'paused', 'succeeded', 'rolled_back', 'aborted', 'failed'] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];
/** States a rollout never leaves. */
export const DEPLOYMENT_ENDED: readonly DeploymentState[] = ['succeeded', 'rolled_back', 'aborted', 'failed'];

export const MATERIALIZATION_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type MaterializationStatus = (typeof MATERIALIZATION_STATUSES)[number];
