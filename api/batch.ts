// The API's side of the `batchInference` workflow: start it by type name, read its live progress
// query (bounded in time, so a missing worker never hangs a GET), cancel it.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { BatchInferenceInput } from '../workflows/batch-inference';
import { batchProgressQuery, type BatchProgress } from '../workflows/batch-messages';
import { isNotFound } from './pipeline';
import { withTimeout } from './temporal';

export const BATCH_WORKFLOW = 'batchInference';

/** Starts the job's workflow; `false` when one with this id was started before (a replay). */
export async function startBatch(client: Client, input: BatchInferenceInput, createdBy: string): Promise<boolean> {
  try {
    await client.workflow.start(BATCH_WORKFLOW, {
      workflowId: input.batchId,
      taskQueue: input.queues.control,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: { createdBy },
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/** The live progress of a running job, or null (ended, not found, or no worker answering). */
export async function batchProgress(client: Client, batchId: string, timeoutMs = 2_000): Promise<BatchProgress | null> {
  try {
    return await withTimeout(client.workflow.getHandle(batchId).query(batchProgressQuery), timeoutMs);
  } catch {
    return null;
  }
}

/**
 * Requests cancellation; `false` when the workflow is gone or already closed. The server accepts a
 * cancel request for a closed workflow without complaint (and older servers answered NOT_FOUND,
 * which the client throws as WorkflowNotFoundError), so the status is asked first.
 */
export async function cancelBatch(client: Client, batchId: string): Promise<boolean> {
  const handle = client.workflow.getHandle(batchId);
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return false;
    await handle.cancel();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
