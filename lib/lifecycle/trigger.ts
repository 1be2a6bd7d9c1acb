// Sends a retraining trigger to the model's lifecycle workflow, starting it if it is not running
// (signal-with-start): a trigger is never lost because the workflow had ended or continued as new,
// and two senders at once reach the same workflow, which coalesces them.
import type { Client } from '@temporalio/client';
import {
  LIFECYCLE_WORKFLOW,
  RETRAIN_TRIGGER_SIGNAL,
  lifecycleWorkflowId,
  type RetrainTrigger,
} from '../workflow-safe/lifecycle';

export async function signalRetrainTrigger(
  client: Client,
  opts: { model: string; taskQueue: string },
  trigger: RetrainTrigger
): Promise<{ workflowId: string }> {
  const workflowId = lifecycleWorkflowId(opts.model);
  await client.workflow.signalWithStart(LIFECYCLE_WORKFLOW, {
    workflowId,
    taskQueue: opts.taskQueue,
    args: [{ model: opts.model }],
    signal: RETRAIN_TRIGGER_SIGNAL,
    signalArgs: [trigger],
  });
  return { workflowId };
}
