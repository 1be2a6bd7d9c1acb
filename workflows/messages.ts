// Messages of the `pipeline` workflow, safe to import from anywhere (API, CLI, tests, workflows):
//   signal `approval`  { decision: 'approve' | 'reject', approver, comment? }
//   query  `status`    -> PipelineStatus (stage, progress, pending approval with its deadline)
import { defineQuery, defineSignal } from '@temporalio/workflow';

export type RunStatus =
  'running' | 'awaiting_approval' | 'succeeded' | 'failed' | 'failed_gate' | 'rejected' | 'expired' | 'cancelled';

/** The pipeline's stages in order (`done` once it has ended, whatever the outcome). */
export const STAGES = [
  'ingest',
  'validate',
  'features',
  'train',
  'evaluate',
  'gate',
  'register',
  'approval',
  'optimise',
  'promote',
  'done',
] as const;
export type Stage = (typeof STAGES)[number] | 'queued';

export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  /** Who decided (the API fills it from the caller's token, never from the request body). */
  approver: string;
  comment?: string;
}

export interface PendingApproval {
  model: string;
  version: number;
  requestedAt: string;
  /** ISO time after which the run ends `expired`. */
  deadline: string;
}

export interface PipelineStatus {
  runId: string;
  model: string;
  status: RunStatus;
  stage: Stage;
  /** Stages finished so far out of all stages, and their ratio (0..1). */
  progress: { completed: number; total: number; fraction: number };
  pendingApproval: PendingApproval | null;
  /** Registered model version, once there is one. */
  version: number | null;
  decision: (ApprovalDecision & { at: string }) | null;
  /** Why the run ended other than `succeeded` (gate reason, error message). */
  reason: string | null;
  startedAt: string;
  endedAt: string | null;
}

export const approvalSignal = defineSignal<[ApprovalDecision]>('approval');
export const statusQuery = defineQuery<PipelineStatus>('status');
