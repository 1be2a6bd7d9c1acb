// The API's side of the `featureMaterialization` workflow: start it by type name under the
// request's deterministic id (a finished one may run again: it finds its partitions done), and
// read its live progress query, bounded in time so a missing worker never hangs a GET.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { FeatureMaterializationInput } from '../workflows/feature-materialization';
import { materializationProgressQuery, type MaterializationProgress } from '../workflows/feature-messages';
import { withTimeout } from './temporal';

export const MATERIALIZATION_WORKFLOW = 'featureMaterialization';

/** Starts the workflow; `false` when the same materialization is running already. */
export async function startMaterialization(
  client: Client,
  input: FeatureMaterializationInput,
  createdBy: string
): Promise<boolean> {
  try {
    await client.workflow.start(MATERIALIZATION_WORKFLOW, {
      workflowId: input.materializationId,
      taskQueue: input.queues.control,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      memo: { createdBy },
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

export async function materializationProgress(
  client: Client,
  id: string,
  timeoutMs = 2_000
): Promise<MaterializationProgress | null> {
  try {
    return await withTimeout(client.workflow.getHandle(id).query(materializationProgressQuery), timeoutMs);
  } catch {
    return null;
  }
}
