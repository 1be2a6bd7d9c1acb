// The committed replay histories and the test-only key they are encrypted with (shared by the
// replay test and the recorder).
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { createDataConverter } from '../../../lib/temporal/connection';

export const HISTORIES = path.join(__dirname, 'histories');
/** Test-only payload key: the committed histories are encrypted with it (never use it elsewhere). */
export const REPLAY_KEY = `replay-test:${createHash('sha256').update('mlops replay test key').digest('base64')}`;
export const replayConverter = () =>
  createDataConverter({ MLOPS_ENCRYPTION_KEYS: REPLAY_KEY, MLOPS_ENV: undefined, dataDir: os.tmpdir() } as never);
export const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
