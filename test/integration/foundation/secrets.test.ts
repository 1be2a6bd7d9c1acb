// Secrets never reach the logs: a full embedded-stack run (demo pipeline to the approval
// step, a failed login, an approval) with every process's output captured and searched.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoScript } from '../../../tools/stack/child';
import { freePort, freePortBlock } from '../../../tools/stack/ports';

it('keeps tokens and keys out of every log line of a full run', async () => {
  const adminToken = `admin-${randomBytes(24).toString('hex')}`;
  const key = randomBytes(32).toString('base64');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mlops-secrets-'));
  const apiPort = await freePort();
  const env = {
    MLOPS_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    TEMPORAL_UI_PORT: String(await freePort()),
    MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}/`,
    MLOPS_API_PORT: String(apiPort),
    MLOPS_WORKER_METRICS_PORT: String(await freePortBlock(6)), // three workers, two ports each
    MLOPS_ADMIN_TOKEN: adminToken,
    MLOPS_ENCRYPTION_KEYS: `k1:${key}`,
    MLOPS_LOG_LEVEL: 'debug',
  };
  const lines: string[] = [];
  const stack = repoScript('stack', 'tools/stack/main.ts', { env, sink: (line) => lines.push(line) });
  try {
    const hint = await stack.waitForLine(/demo: approve it with/, 300_000);
    const runId = /approve (run-[\w-]+)/.exec(hint)![1];
    const api = `http://127.0.0.1:${apiPort}`;
    // A wrong token (logged as a failure) and a real approval (audited).
    expect((await fetch(`${api}/v1/runs`, { headers: { authorization: `Bearer ${adminToken}x` } })).status).toBe(401);
    const approve = await fetch(`${api}/v1/runs/${runId}/approval`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', comment: 'secrets test' }),
    });
    expect(approve.status).toBeLessThan(300);
    await stack.waitForLine(/demo: .* succeeded at done/, 300_000);
  } finally {
    await stack.stop(20_000);
  }
  const scientistToken = readFileSync(path.join(dataDir, 'demo-scientist-token'), 'utf8').trim();
  const log = lines.join('\n');
  expect(lines.length).toBeGreaterThan(20);
  for (const secret of [adminToken, key, scientistToken]) expect(log).not.toContain(secret);
}, 600_000);
