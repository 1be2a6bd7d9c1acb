// The command-trainer process contract (docs/trainers.md is the user-facing version):
//
//   input   $MLOPS_INPUT_DIR       data shard(s) as CSV with a header (train.csv, or train-<i>.csv)
//           $MLOPS_PARAMS          params JSON: { runId, attempt, task, target, features, params }
//   output  $MLOPS_OUTPUT_DIR      the process writes model.onnx here before exiting 0
//           $MLOPS_CHECKPOINT_DIR  the process may save state here and resume from it on the next
//                                  attempt (print {"event":"checkpoint"} after writing it)
//   metrics stdout                 one JSON object per line; numeric fields become the run's
//                                  metrics (step = "epoch", "round" or "step" field)
//   exit    0 ok; 65 (EX_DATAERR) bad input, never retried; any other code or a signal fails
//           the attempt (retried), with the last 50 stderr lines in the error.
//   stdin   a pipe that closes when the worker dies (the process may exit on EOF).
//
// The process runs in its own process group, led by SUPERVISOR (below); cancellation and timeouts
// kill the whole group (SIGTERM, then SIGKILL after a grace period), and the supervisor SIGKILLs the
// group when the worker dies, so nothing it spawned (torchrun's ranks) is left.
// No Temporal here: activities/command-trainer.ts adapts this to an activity.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

/** Exit code meaning "bad input (data or params): do not retry". sysexits.h EX_DATAERR. */
export const EXIT_BAD_INPUT = 65;
export const STDERR_TAIL_LINES = 50;

export interface CommandRunOptions {
  /** argv: the program and its arguments (no shell). */
  command: string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Fires cancellation: the process group gets SIGTERM, then SIGKILL after killGraceMs. */
  signal?: AbortSignal;
  /** Kill the process group after this long (0 = no limit of its own). */
  timeoutMs?: number;
  killGraceMs?: number;
  /** A JSON object printed on stdout (metrics, or {"event": ...}). */
  onJson?(obj: Record<string, unknown>): void | Promise<void>;
  /** Any other stdout line, and every stderr line. */
  onLog?(line: string, stream: 'stdout' | 'stderr'): void;
  /** Called once the process is running, with its pid (= its process group id). */
  onStart?(pid: number): void;
}

export interface CommandOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why we killed it, if we did. */
  killed: 'cancelled' | 'timeout' | null;
  stderrTail: string[];
  /** JSON lines seen on stdout. */
  jsonLines: number;
}

/** Error thrown by runCommand for a failed process; `badInput` means do not retry. */
export class CommandTrainerError extends Error {
  constructor(
    message: string,
    readonly outcome: CommandOutcome,
    readonly badInput: boolean
  ) {
    super(message);
    this.name = badInput ? 'CommandTrainerBadInput' : 'CommandTrainerFailed';
  }
}

/** Sends `sig` to the whole process group of `pid` (ignored when it is already gone). */
export function killGroup(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of the group `pgid` is still alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parses a stdout line as a JSON object, or returns null. */
export function parseJsonLine(line: string): Record<string, unknown> | null {
  const t = line.trim();
  if (!t.startsWith('{')) return null;
  try {
    const v = JSON.parse(t) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The numeric metrics of a metrics line and its step (epoch, round or step field, else `fallback`). */
export function metricsOf(
  obj: Record<string, unknown>,
  fallback: number
): { step: number; values: Record<string, number> } | null {
  if (typeof obj.event === 'string' && obj.event !== 'metrics') return null;
  const values: Record<string, number> = {};
  let step = fallback;
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (k === 'epoch' || k === 'round' || k === 'step') step = Math.trunc(v);
    else values[k.replace(/[.$]/g, '_')] = v; // stored field names may not hold '.' or '$'
  }
  return Object.keys(values).length ? { step, values } : null;
}

/** The epoch a metrics line names (its `epoch` or `round` field), or null (a `step` is not an epoch). */
export function epochOf(obj: Record<string, unknown>): number | null {
  for (const k of ['epoch', 'round']) {
    const v = obj[k];
    if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  }
  return null;
}

/** The losses and validation metric among a process's last metric values; null where it printed none. */
export function finalMetrics(
  last: Record<string, number>
): { trainLoss: number | null; valLoss: number | null; valMetric: number | null } | null {
  const [trainLoss, valLoss, valMetric] = (['trainLoss', 'valLoss', 'valMetric'] as const).map((k) => last[k] ?? null);
  return trainLoss === null && valLoss === null && valMetric === null ? null : { trainLoss, valLoss, valMetric };
}

/**
 * A few lines of Node that lead the trainer's process group: they start the trainer in the group,
 * pass its exit code (or signal) on, and SIGKILL the whole group when their stdin (a pipe from the
 * worker) closes, which is what happens when the worker dies, even by SIGKILL. So nothing the
 * trainer started outlives a dead worker, whether or not the trainer watches its own stdin.
 */
export const SUPERVISOR = `
const { spawn } = require('node:child_process');
const [cmd, ...args] = process.argv.slice(1);
process.on('SIGTERM', () => {}); // the group's SIGTERM is for the trainer; we report its exit
const child = spawn(cmd, args, { stdio: 'inherit' });
child.on('error', (e) => { console.error('cannot start ' + cmd + ': ' + e.code); process.exit(e.code === 'ENOENT' || e.code === 'EACCES' ? ${EXIT_BAD_INPUT} : 127); });
child.on('exit', (code, signal) => {
  if (signal) { process.removeAllListeners('SIGTERM'); process.kill(process.pid, signal); }
  else process.exit(code);
});
process.stdin.on('end', () => { try { process.kill(-process.pid, 'SIGKILL'); } catch {} });
process.stdin.on('error', () => {});
process.stdin.resume();
`;

/** Runs the process to completion; resolves on exit 0, throws CommandTrainerError otherwise. */
export async function runCommand(opts: CommandRunOptions): Promise<CommandOutcome> {
  if (!opts.command.length) throw new CommandTrainerError('trainer.command is empty', emptyOutcome(), true);
  const child = spawn(process.execPath, ['-e', SUPERVISOR, '--', ...opts.command], {
    cwd: opts.cwd,
    env: opts.env,
    detached: true, // its own process group: we kill the group, never just the leader
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const outcome: CommandOutcome = { ...emptyOutcome() };
  const grace = opts.killGraceMs ?? 5_000;
  let graceTimer: NodeJS.Timeout | undefined;
  const kill = (why: 'cancelled' | 'timeout') => {
    if (outcome.killed || child.pid === undefined) return;
    outcome.killed = why;
    killGroup(child.pid, 'SIGTERM');
    const pid = child.pid;
    graceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), grace);
  };
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  try {
    await spawned;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // A program that does not exist is a spec problem: retrying will not make it appear.
    throw new CommandTrainerError(
      `cannot start trainer.command ${JSON.stringify(opts.command[0])}: ${e.code ?? e.message}; check the path and that it is executable on the GPU workers`,
      outcome,
      e.code === 'ENOENT' || e.code === 'EACCES'
    );
  }
  const pid = child.pid!;
  opts.onStart?.(pid);
  child.stdin!.on('error', () => undefined); // the process may close its stdin; that is fine

  const onAbort = () => kill('cancelled');
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const timeout = opts.timeoutMs ? setTimeout(() => kill('timeout'), opts.timeoutMs) : undefined;

  // Stdout JSON handlers run in order (metrics writes are awaited one after another).
  let chain: Promise<void> = Promise.resolve();
  let handlerError: unknown;
  const out = readline.createInterface({ input: child.stdout! });
  out.on('line', (line) => {
    const obj = parseJsonLine(line);
    if (obj) {
      outcome.jsonLines++;
      chain = chain.then(async () => {
        try {
          await opts.onJson?.(obj);
        } catch (err) {
          handlerError ??= err;
        }
      });
    } else opts.onLog?.(line, 'stdout');
  });
  const errLines = readline.createInterface({ input: child.stderr! });
  errLines.on('line', (line) => {
    outcome.stderrTail.push(line);
    if (outcome.stderrTail.length > STDERR_TAIL_LINES) outcome.stderrTail.shift();
    opts.onLog?.(line, 'stderr');
  });
  const streamsDone = Promise.all([
    new Promise((r) => out.once('close', r)),
    new Promise((r) => errLines.once('close', r)),
  ]);

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  );
  outcome.code = exit.code;
  outcome.signal = exit.signal;
  // The leader is gone; make sure nothing it spawned outlives it (a rank that ignored SIGTERM).
  if (outcome.killed || exit.code !== 0) killGroup(pid, 'SIGKILL');
  // Grandchildren may hold the pipes open; do not wait on them forever.
  await Promise.race([streamsDone, new Promise((r) => setTimeout(r, 2_000))]);
  await chain;
  if (timeout) clearTimeout(timeout);
  if (graceTimer) clearTimeout(graceTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  child.stdin!.destroy();

  if (handlerError) throw handlerError;
  if (exit.code === 0 && !outcome.killed) return outcome;
  const tail = outcome.stderrTail.length
    ? `\n--- last ${outcome.stderrTail.length} stderr lines ---\n${outcome.stderrTail.join('\n')}`
    : '';
  if (outcome.killed) {
    throw new CommandTrainerError(
      outcome.killed === 'timeout'
        ? `trainer process exceeded its time limit of ${opts.timeoutMs} ms and was killed${tail}`
        : `trainer process was cancelled (process group ${pid} killed)${tail}`,
      outcome,
      false
    );
  }
  if (exit.code === EXIT_BAD_INPUT) {
    throw new CommandTrainerError(
      `trainer process reported bad input (exit ${EXIT_BAD_INPUT}), not retried${tail}`,
      outcome,
      true
    );
  }
  throw new CommandTrainerError(
    exit.signal
      ? `trainer process was killed by ${exit.signal}${tail}`
      : `trainer process exited with code ${exit.code}${tail}`,
    outcome,
    false
  );
}

function emptyOutcome(): CommandOutcome {
  return { code: null, signal: null, killed: null, stderrTail: [], jsonLines: 0 };
}
