// MLOPS_API_WORKERS: the real API entry as a cluster of processes on one port. The primary
// creates the admin token once, every worker answers with it, a worker's death stops the whole
// API with status 1 (no silent half-capacity), and SIGTERM drains and exits 0 with no process left.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoScript } from '../../../tools/stack/child';
import { freePort } from '../../../tools/stack/ports';
import { testEnv } from '../harness/env';
import { waitFor } from '../harness/wait';
import { alive } from '../fleets/helpers';

/** Pids of the live processes whose parent is `pid`. */
function childPids(pid: number): number[] {
  const out = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return out ? out.split(/\s+/).map(Number).filter(alive) : [];
}

async function startClusteredApi(workers: number) {
  const port = await freePort();
  const env = testEnv({ MLOPS_API_WORKERS: String(workers), MLOPS_API_PORT: String(port), MLOPS_LOG_LEVEL: 'info' });
  const lines: string[] = [];
  const api = repoScript('api', 'api/server.ts', { env, sink: (line) => lines.push(line) });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'every API worker listening',
    () => lines.filter((l) => l.includes('api listening')).length === workers,
    60_000
  );
  const token = readFileSync(path.join(env.MLOPS_DATA_DIR, 'admin-token'), 'utf8').trim();
  return { api, url, token, lines };
}

it('serves one port from several processes that share one admin token', async () => {
  const { api, url, token } = await startClusteredApi(2);
  try {
    const workers = childPids(api.proc.pid!);
    expect(workers).toHaveLength(2);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status)
      )
    );
    expect(answers.every((s) => s === 200)).toBe(true);

    api.proc.kill('SIGTERM');
    expect(await api.exited).toEqual({ code: 0, signal: null });
    expect(workers.filter(alive)).toEqual([]);
  } finally {
    await api.stop(5_000);
  }
}, 120_000);

it('stops every process with status 1 when a worker dies', async () => {
  const { api, lines } = await startClusteredApi(2);
  try {
    const [victim, survivor] = childPids(api.proc.pid!);
    process.kill(victim, 'SIGKILL');
    expect((await api.exited).code).toBe(1);
    expect(lines.join('\n')).toMatch(new RegExp(`worker ${victim} exited \\(SIGKILL\\); stopping the others`));
    await waitFor('the other worker to exit', () => !alive(survivor), 20_000);
  } finally {
    await api.stop(5_000);
  }
}, 120_000);
