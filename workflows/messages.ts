// Messages of the `pipeline` workflow, safe to import from anywhere (API, CLI, tests, workflows):
//   update `approve`   VouchedDecision -> ApprovalAck: the decision signed by the API (four eyes
//                      are checked again in the workflow: the requester may not decide, and a
//                      decision without a valid signature is refused and audited)
//   signal `approval`  { decision, approver, comment? }: runs started before the update existed only
//   query  `status`    -> PipelineStatus (stage, progress, pending approval with its deadline)
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, VouchedDecision } from '../lib/workflow-safe/approval';

import type { RunStatus } from '../lib/workflow-safe/statuses';

export type { RunStatus };

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

export type { ApprovalDecision, VouchedDecision };

/** What the `approve` update answers once the decision is taken. */
export interface ApprovalAck {
  runId: string;
  decision: 'approve' | 'reject';
  approver: string;
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

export const approvalUpdate = defineUpdate<ApprovalAck, [VouchedDecision]>('approve');
/** Legacy: only runs whose history predates the `approve` update still listen to it. */
export const approvalSignal = defineSignal<[ApprovalDecision]>('approval');
export const statusQuery = defineQuery<PipelineStatus>('status');
