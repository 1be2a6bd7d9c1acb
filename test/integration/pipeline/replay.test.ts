// Replay: workflow code changes must stay deterministic for running executions. Replays
//  1. the histories committed under histories/ (recorded from earlier code), and
//  2. fresh histories of runs that end in each way (succeeded, rejected, expired, failed),
// against the current workflow bundle. A DeterminismViolationError fails the test.
// Set PIPELINE_RECORD_HISTORIES=1 to (re)write histories/ from the fresh runs, or =<tag> to add
// pipeline-<outcome>-<tag>.json next to the older ones (keep old histories: they guard patched()).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { approvalSignal } from '../../../workflows/messages';
import { workflowBundle } from '../harness/env';
import { HISTORIES_DIR, REPLAY_KEY, replayCommittedHistories, replayHistory } from './committed-histories';
import { penguinsSpec, pipelineEnv, startPipeline, waitForStatus, type PipelineEnv } from './helpers';

describe('pipeline: replay', () => {
  it('replays the committed histories with the current workflow code', async () => {
    const files = await replayCommittedHistories(workflowBundle());
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  describe('fresh histories', () => {
    let env: PipelineEnv;
    const root = mkdtempSync(path.join(os.tmpdir(), 'mlops-replay-'));
    beforeAll(async () => {
      writeFileSync(path.join(root, 'tiny-bad.csv'), 'a,y\n1,x\n2,y\n3,x\n4,y\n');
      env = await pipelineEnv({ env: { MLOPS_DATASETS_DIR: root, MLOPS_ENCRYPTION_KEYS: REPLAY_KEY } });
    });
    afterAll(async () => {
      await env?.close();
    });

    it('replays runs that succeeded, were rejected, expired and failed', async () => {
      const approve = await startPipeline(env, penguinsSpec({ dataset: { name: 'penguins' } }));
      const reject = await startPipeline(env, penguinsSpec({ dataset: { name: 'penguins' } }));
      const expire = await startPipeline(
        env,
        penguinsSpec({ dataset: { name: 'penguins' }, approval: { timeout: '1s' } })
      );
      const fail = await startPipeline(env, penguinsSpec({ dataset: { path: 'tiny-bad.csv' }, target: 'zzz' }));
      await waitForStatus(approve, 'awaiting_approval');
      await approve.signal(approvalSignal, { decision: 'approve', approver: 'carol' });
      await waitForStatus(reject, 'awaiting_approval');
      await reject.signal(approvalSignal, { decision: 'reject', approver: 'dave', comment: 'no' });
      const outcomes = await Promise.all(
        [approve, reject, expire, fail].map((h) =>
          h.result().then(
            (r) => r.status,
            () => 'failed'
          )
        )
      );
      expect(outcomes).toEqual(['succeeded', 'rejected', 'expired', 'failed']);
      const names = ['succeeded', 'rejected', 'expired', 'failed'];
      for (const [i, h] of [approve, reject, expire, fail].entries()) {
        const history = await h.fetchHistory();
        await replayHistory(workflowBundle(), history, h.workflowId);
        const tag = process.env.PIPELINE_RECORD_HISTORIES === '1' ? '' : `-${process.env.PIPELINE_RECORD_HISTORIES}`;
        if (process.env.PIPELINE_RECORD_HISTORIES) {
          writeFileSync(
            path.join(HISTORIES_DIR, `pipeline-${names[i]}${tag}.json`),
            JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n'
          );
        }
      }
    });
  });
});
