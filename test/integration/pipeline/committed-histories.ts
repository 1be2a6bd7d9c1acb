// The committed workflow histories (histories/, recorded from earlier releases) and how to replay
// them: shared by the replay test (the workflow code as tests bundle it) and `npm run build`
// (the prebuilt bundle the images ship), so both guard the same histories the same way.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createDataConverter } from '../../../lib/temporal/connection';

export const HISTORIES_DIR = path.join(__dirname, 'histories');
/** Test-only payload key: the committed histories are encrypted with it (never use it elsewhere). */
export const REPLAY_KEY = `replay-test:${createHash('sha256').update('mlops replay test key').digest('base64')}`;
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

/** Replays one history; throws DeterminismViolationError when the bundle's code diverges from it. */
export async function replayHistory(
  workflowBundle: { codePath: string } | { code: string },
  history: temporal.api.history.v1.IHistory,
  workflowId: string
): Promise<void> {
  const dataConverter = await createDataConverter({
    MLOPS_ENCRYPTION_KEYS: REPLAY_KEY,
    MLOPS_ENV: undefined,
    dataDir: os.tmpdir(),
  } as never);
  await Worker.runReplayHistory(
    { workflowBundle, dataConverter, logger: quiet as never } as never,
    history,
    workflowId
  );
}

/** Replays every committed history against `workflowBundle`; returns the file names replayed. */
export async function replayCommittedHistories(
  workflowBundle: { codePath: string } | { code: string }
): Promise<string[]> {
  const files = readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const f of files) {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, f), 'utf8')));
    await replayHistory(workflowBundle, history, f);
  }
  return files;
}
