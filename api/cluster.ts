// Several API processes on one port (node:cluster), for more than one core: MLOPS_API_WORKERS.
// The primary creates what every process shares (the admin token and the encryption key, both
// generated into the data dir on first start) before it forks, so workers never race to write
// them. Only worker 0 runs the run-index reconciler. A worker that dies stops the others and the
// primary exits 1: restarts belong to the supervisor, as for the embedded stack.
import cluster from 'node:cluster';
import { ensureAdminToken } from '../lib/auth/admin-token';
import type { Config } from '../lib/config';
import { keyringFor } from '../lib/crypto/keyring';

export const WORKER_INDEX_VAR = 'MLOPS_API_WORKER_INDEX';

/** Which server the processes run: the API by default, or the inference server (serving/main.ts). */
export interface ClusterRole {
  name: string;
  workers: number;
  port: number;
}

export async function runPrimary(
  cfg: Config,
  role: ClusterRole = { name: 'api', workers: cfg.MLOPS_API_WORKERS, port: cfg.MLOPS_API_PORT }
): Promise<void> {
  await ensureAdminToken(cfg);
  await keyringFor(cfg);
  let failed = false;
  let stopping = false;
  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  cluster.on('exit', (worker, code, signal) => {
    if (code !== 0 && !(stopping && signal)) failed = true; // a drain that fails counts too
    if (!stopping) {
      failed = true;
      console.error(
        `${role.name}: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); stopping the others`
      );
      stopAll('SIGTERM');
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
  });
  process.once('SIGTERM', () => stopAll('SIGTERM'));
  process.once('SIGINT', () => stopAll('SIGTERM'));
  for (let i = 0; i < role.workers; i++) cluster.fork({ [WORKER_INDEX_VAR]: String(i) });
  console.log(`${role.name}: ${role.workers} worker processes on port ${role.port}`);
}

/** Whether this process should run the reconciler: the only process, or cluster worker 0. */
export function runsReconciler(): boolean {
  return cluster.isPrimary || process.env[WORKER_INDEX_VAR] === '0';
}
