// The embedded stack seen from outside, for tests and the chaos benchmark: `npm start` as a
// person runs it, in a process group of its own that receives signals as a group (as a
// terminal's Ctrl-C does), on free ports with a fresh data dir; its processes; and what is
// left of it afterwards (processes, ports).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from './child';
import { assertPortFree, freePort, freePortBlock } from './ports';

const ROOT = path.resolve(__dirname, '../..');

export async function stackEnv(overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    MLOPS_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'mlops-stack-')),
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    TEMPORAL_UI_PORT: String(await freePort()),
    MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}/`,
    MLOPS_API_PORT: String(await freePort()),
    MLOPS_INFERENCE_PORT: String(await freePort()),
    MLOPS_STACK_METRICS_PORT: String(await freePort()),
    // Checked free and below the ephemeral range: a random unchecked base once met a port an
    // outgoing connection held, and the stack refused to start. 16 ports: up to eight workers.
    MLOPS_WORKER_METRICS_PORT: String(await freePortBlock(16)),
    MLOPS_DEMO: '0',
    MLOPS_LOG_LEVEL: 'info',
    ...overrides,
  };
}

/** `npm start` in its own process group (the group leader is npm); output kept for tail(). */
export function npmStart(env: Record<string, string>): Child {
  return new Child({
    name: 'stack',
    command: 'npm',
    args: ['start'],
    cwd: ROOT,
    env: { ...process.env, ...env },
    sink: () => undefined,
  });
}

/**
 * A signal to the whole group of `npm start`, as a terminal sends Ctrl-C. A group already gone
 * (ESRCH) is left alone, so a test's cleanup does not hide why the stack exited early.
 */
export function signalGroup(stack: Child, signal: NodeJS.Signals): void {
  try {
    process.kill(-stack.proc.pid!, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export const adminToken = (env: Record<string, string>) =>
  readFileSync(path.join(env.MLOPS_DATA_DIR, 'admin-token'), 'utf8').trim();

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return String(pid);
  }
};

/** Every process below `pid` (children run in process groups of their own), with its command line. */
export function descendants(pid: number): { pid: number; cmd: string }[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (parent: number) =>
    table.filter(([, ppid]) => ppid === parent).forEach(([child]) => (found.push(child), walk(child)));
  walk(pid);
  return found.map((p) => ({ pid: p, cmd: cmdline(p) }));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Processes of `pids` still alive after a short grace (esbuild helpers exit just after their parent). */
export async function survivors(pids: number[]): Promise<string[]> {
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(alive).map(cmdline);
}

/** Every port the stack of `env` listens on (the first three workers' metrics ports included). */
export async function assertPortsFree(env: Record<string, string>): Promise<void> {
  const port = (hostPort: string) => Number(hostPort.split(':').pop());
  const ports = [
    port(env.TEMPORAL_ADDRESS),
    Number(env.TEMPORAL_UI_PORT),
    port(new URL(env.MONGODB_URI.replace('mongodb:', 'http:')).host),
    Number(env.MLOPS_API_PORT),
    Number(env.MLOPS_INFERENCE_PORT),
    Number(env.MLOPS_STACK_METRICS_PORT),
    ...[0, 1, 2, 3, 4, 5].map((i) => Number(env.MLOPS_WORKER_METRICS_PORT) + i),
  ];
  for (const p of ports) await assertPortFree('127.0.0.1', p, String(p));
}
