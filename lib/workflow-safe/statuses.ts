// The status vocabularies: of a run (workflow state, run documents, API, CLI) and of a model
// version (registry). One definition, pure, so workflow code, the store, the API and the CLI
// cannot drift apart.

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
