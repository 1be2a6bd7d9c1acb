// Replay: workflow code changes must stay deterministic for running executions. Replays
//  1. the histories committed under histories/ (recorded from earlier code), and
//  2. fresh histories of runs that end in each way (succeeded, rejected, expired, failed),
// against the current workflow bundle. A DeterminismViolationError fails the test.
// Set PIPELINE_RECORD_HISTORIES=1 to (re)write histories/ from the fresh runs, or =<tag> to add
// pipeline-<outcome>-<tag>.json next to the older ones (keep old histories: they guard patched()).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { createDataConverter } from '../../../lib/temporal/connection';
import { workflowBundle } from '../harness/env';
import { decide, penguinsSpec, pipelineEnv, startPipeline, waitForStatus, type PipelineEnv } from './helpers';

const HISTORIES = path.join(__dirname, 'histories');
/** Test-only payload key: the committed histories are encrypted with it (never use it elsewhere). */
const REPLAY_KEY = `replay-test:${createHash('sha256').update('mlops replay test key').digest('base64')}`;
const replayConverter = () =>
  createDataConverter({ MLOPS_ENCRYPTION_KEYS: REPLAY_KEY, MLOPS_ENV: undefined, dataDir: os.tmpdir() } as never);
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

describe('pipeline: replay', () => {
  it('replays the committed histories with the current workflow code', async () => {
    const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, f), 'utf8')));
      await Worker.runReplayHistory(
        { workflowBundle: workflowBundle(), dataConverter: await replayConverter(), logger: quiet as never } as never,
        history,
        f
      );
    }
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
      await decide(env, approve, { decision: 'approve', approver: 'carol' });
      await waitForStatus(reject, 'awaiting_approval');
      await decide(env, reject, { decision: 'reject', approver: 'dave', comment: 'no' });
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
        await Worker.runReplayHistory(
          { workflowBundle: workflowBundle(), dataConverter: await replayConverter(), logger: quiet as never } as never,
          history,
          h.workflowId
        );
        const tag = process.env.PIPELINE_RECORD_HISTORIES === '1' ? '' : `-${process.env.PIPELINE_RECORD_HISTORIES}`;
        if (process.env.PIPELINE_RECORD_HISTORIES) {
          writeFileSync(
            path.join(HISTORIES, `pipeline-${names[i]}${tag}.json`),
            JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n'
          );
        }
      }
    });
  });
});
