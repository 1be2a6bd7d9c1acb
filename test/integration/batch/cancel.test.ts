// cancelBatch against a real Temporal server: a closed workflow is not "cancelled". The server
// accepts a cancel request for a closed execution without an error, so only the status the
// function asks for first tells the two apart (and a missing one is WorkflowNotFoundError).
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { createClient } from '../../../lib/temporal/connection';
import { BATCH_WORKFLOW, cancelBatch } from '../../../api/batch';
import { testConfig } from '../harness/env';

let client: Client;
beforeAll(async () => {
  client = await createClient(testConfig());
});
afterAll(async () => {
  await client.connection.close();
});

/** A batch workflow on a queue no worker polls: it stays running until told otherwise. */
async function startIdle(): Promise<string> {
  const workflowId = `cancel-${randomUUID()}`;
  await client.workflow.start(BATCH_WORKFLOW, { workflowId, taskQueue: `idle-${randomUUID()}`, args: [] });
  return workflowId;
}

test('a running batch workflow is cancelled', async () => {
  const id = await startIdle();
  expect(await cancelBatch(client, id)).toBe(true);
  await client.workflow.getHandle(id).terminate('test cleanup');
});

test('a closed batch workflow is not cancelled again', async () => {
  const id = await startIdle();
  await client.workflow.getHandle(id).terminate('closed before the cancel');
  expect(await cancelBatch(client, id)).toBe(false);
});

test('a batch workflow that never existed is not cancelled', async () => {
  expect(await cancelBatch(client, `missing-${randomUUID()}`)).toBe(false);
});
