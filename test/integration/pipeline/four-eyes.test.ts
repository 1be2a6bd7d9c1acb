// Four eyes at the workflow, not only in the API: reaching Temporal is not enough to approve a run.
// A plain `temporal workflow signal` from the CLI is refused by the workers' codec (unencrypted);
// with that layer switched off (MLOPS_TEMPORAL_ACCEPT_PLAINTEXT=1) the workflow itself still
// refuses every decision the API did not vouch for (and audits it), a voucher made with another key
// or for another run, and a vouched decision by the run's own requester. A vouched decision by
// someone else is taken.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { vouch } from '../../../lib/crypto/approval-voucher';
import { getApproval } from '../../../lib/store/approvals';
import { audit } from '../../../lib/store/audit';
import { approvalUpdate, statusQuery } from '../../../workflows/messages';
import { HARNESS } from '../harness/state';
import { waitFor } from '../harness/wait';
import { decide, penguinsSpec, pipelineEnv, startPipeline, waitForStatus, type PipelineEnv } from './helpers';

const run = promisify(execFile);

/** The Temporal CLI against the test server, as someone with network access to Temporal would use it. */
async function temporalCli(env: PipelineEnv, args: string[]): Promise<{ code: number; output: string }> {
  const bin = process.env[HARNESS.temporalBin]!;
  try {
    const r = await run(bin, [...args, '--address', env.cfg.TEMPORAL_ADDRESS, '--namespace', 'default'], {
      timeout: 60_000,
    });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const plainApproval = JSON.stringify({ decision: 'approve', approver: 'mallory' });

async function historyEventTypes(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
}

describe('four eyes in the workflow', () => {
  describe('with the default codec', () => {
    let env: PipelineEnv;
    beforeAll(async () => {
      env = await pipelineEnv();
    });
    afterAll(async () => {
      await env?.close();
    });

    it('refuses a plain `temporal workflow signal`: the workflow task fails on the unencrypted payload', async () => {
      const handle = await startPipeline(env, penguinsSpec());
      await waitForStatus(handle, 'awaiting_approval');
      const sent = await temporalCli(env, [
        'workflow',
        'signal',
        '--workflow-id',
        handle.workflowId,
        '--name',
        'approval',
        '--input',
        plainApproval,
      ]);
      expect(sent).toMatchObject({ code: 0 });
      // The worker cannot decode the signal, so the task that carries it fails, and fails again.
      const attempts = await waitFor('a workflow task retried after failing', async () => {
        const attempt = (await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0;
        return attempt >= 2 ? attempt : undefined;
      });
      expect(attempts).toBeGreaterThanOrEqual(2);
      const types = await historyEventTypes(handle);
      const signalled = types.indexOf('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
      expect(signalled).toBeGreaterThan(-1);
      expect(types.slice(signalled)).not.toContain('EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
      expect(await getApproval(env.store, handle.workflowId)).toBeNull();
      await handle.terminate('test done');
    });
  });

  describe('with unencrypted payloads accepted (the codec layer off)', () => {
    let env: PipelineEnv;
    beforeAll(async () => {
      env = await pipelineEnv({ env: { MLOPS_TEMPORAL_ACCEPT_PLAINTEXT: '1' } });
    });
    afterAll(async () => {
      await env?.close();
    });

    it('refuses the CLI, forged, misdirected and self approvals, then takes a vouched one', async () => {
      const handle = await startPipeline(env, penguinsSpec());
      await waitForStatus(handle, 'awaiting_approval');
      const runId = handle.workflowId;

      // The legacy signal is not listened to by new runs.
      const signal = await temporalCli(env, [
        'workflow',
        'signal',
        '--workflow-id',
        runId,
        '--name',
        'approval',
        '--input',
        plainApproval,
      ]);
      expect(signal).toMatchObject({ code: 0 });
      // An unsigned update is refused to the caller (updates are handled after the earlier signal).
      const update = await temporalCli(env, [
        'workflow',
        'update',
        'execute',
        '--workflow-id',
        runId,
        '--name',
        'approve',
        '--input',
        plainApproval,
      ]);
      expect(update.code).not.toBe(0);
      expect(await handle.query(statusQuery)).toMatchObject({ status: 'awaiting_approval', decision: null });
      const denied = await audit(env.store.db)
        .find({ 'object.id': runId, action: 'run.approve', outcome: 'denied' })
        .toArray();
      expect(denied.map((e) => e.details)).toEqual([
        { reason: 'unsigned', claimedApprover: 'mallory', via: 'workflow' },
      ]);

      // Signed with a key the workers do not hold, or for another run: not vouched for.
      const otherKey = {
        activeId: env.store.keyring!.activeId,
        keys: new Map([[env.store.keyring!.activeId, randomBytes(32)]]),
      };
      const forged = vouch(otherKey, runId, { decision: 'approve', approver: 'mallory' });
      await expect(handle.executeUpdate(approvalUpdate, { args: [forged] })).rejects.toMatchObject({
        cause: {
          type: 'ApprovalRefused',
          message: expect.stringMatching(/not vouched for by the API \(bad-signature\)/),
        },
      });
      const elsewhere = vouch(env.store.keyring!, 'run-another', { decision: 'approve', approver: 'mallory' });
      await expect(handle.executeUpdate(approvalUpdate, { args: [elsewhere] })).rejects.toMatchObject({
        cause: { type: 'ApprovalRefused', message: expect.stringMatching(/bad-signature/) },
      });
      // Vouched for, but by the requester: refused by the validator.
      await expect(decide(env, handle, { decision: 'approve', approver: 'tester' })).rejects.toMatchObject({
        cause: { type: 'ApprovalRefused', message: expect.stringMatching(/four eyes: tester requested this run/) },
      });
      expect(await handle.query(statusQuery)).toMatchObject({ status: 'awaiting_approval', decision: null });

      await expect(decide(env, handle, { decision: 'approve', approver: 'bob' })).resolves.toEqual({
        runId,
        decision: 'approve',
        approver: 'bob',
      });
      expect((await handle.result()).status).toBe('succeeded');
      expect(await getApproval(env.store, runId)).toMatchObject({ decision: 'approve', approver: 'bob' });
    });
  });
});
