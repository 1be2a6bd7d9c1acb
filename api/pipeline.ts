// The API's side of the `pipeline` workflow: start it, query its live status, send the
// vouched approval decision (an update, so a refusal by the workflow comes back), cancel it. The workflow is started by type name (the API never loads
// workflow code); signal and query definitions come from the workflow-safe messages module.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MODEL_NAME, RUN_STATUS, STAGE } from '../lib/workflow-safe/search-attributes';
import type { PipelineInput } from '../workflows/pipeline';
import {
  approvalSignal,
  approvalUpdate,
  statusQuery,
  type ApprovalDecision,
  type PipelineStatus,
  type VouchedDecision,
} from '../workflows/messages';
import { withTimeout } from './temporal';
import { FAILURE } from '../lib/workflow-safe/failures';

export const PIPELINE_WORKFLOW = 'pipeline';
export type { PipelineInput, ApprovalDecision, PipelineStatus };

/** Starts the run's workflow; `false` when a workflow with this id was started before. */
export async function startPipeline(client: Client, input: PipelineInput): Promise<boolean> {
  try {
    await client.workflow.start(PIPELINE_WORKFLOW, {
      workflowId: input.runId,
      taskQueue: input.queues.control,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: MODEL_NAME, value: input.spec.model },
        { key: STAGE, value: 'queued' },
        { key: RUN_STATUS, value: 'running' },
      ],
      memo: input.createdBy ? { createdBy: input.createdBy } : undefined,
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

export type ExecutionState =
  { found: false } | { found: true; open: boolean; temporalStatus: string; live: Record<string, unknown> | null };

/** Describe plus (while open) the `status` query, each bounded by `timeoutMs`. */
export async function liveState(client: Client, runId: string, timeoutMs = 2_000): Promise<ExecutionState> {
  const handle = client.workflow.getHandle(runId);
  let status: string;
  try {
    const d = await withTimeout(handle.describe(), timeoutMs);
    status = d.status.name;
  } catch (err) {
    if (isNotFound(err)) return { found: false };
    throw err;
  }
  const open = status === 'RUNNING';
  let live: Record<string, unknown> | null = null;
  if (open) {
    try {
      const q = await withTimeout(handle.query(statusQuery), timeoutMs);
      if (q && typeof q === 'object') live = q as unknown as Record<string, unknown>;
    } catch {
      live = null; // no worker polling right now: the stored state still answers
    }
  }
  return { found: true, open, temporalStatus: status, live };
}

/** Why the workflow refused a decision (the four-eyes and state checks it repeats, a bad voucher). */
export class ApprovalRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalRefusedError';
  }
}

/**
 * Sends the decision and waits until the workflow has taken it. Runs started before the `approve`
 * update existed have no handler for it: they get the legacy signal.
 */
export async function decideApproval(client: Client, runId: string, d: VouchedDecision): Promise<void> {
  const handle = client.workflow.getHandle(runId);
  try {
    await handle.executeUpdate(approvalUpdate, { args: [d] });
  } catch (err) {
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
    if (!(cause instanceof ApplicationFailure)) throw err;
    if (cause.type === FAILURE.ApprovalRefused) throw new ApprovalRefusedError(cause.message);
    // The SDK rejects an update that has no handler with an untyped ApplicationFailure (type
    // 'Error'): its message is the only mark it leaves.
    if (!/No registered handler for update/.test(cause.message)) throw err;
    const legacy: ApprovalDecision = { decision: d.decision, approver: d.approver, comment: d.comment };
    await handle.signal(approvalSignal, legacy);
  }
}

export async function cancelPipeline(client: Client, runId: string): Promise<void> {
  await client.workflow.getHandle(runId).cancel();
}

/** The server has no such execution, or (for cancel and signal) it has already closed. */
export function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError;
}
