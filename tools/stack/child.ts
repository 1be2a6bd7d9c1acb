// A supervised child process: its own process group (so stopping it stops everything it
// spawned), every output line prefixed with its name, and a readiness probe.
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where prefixed output lines go; default stdout. */
  sink?: (line: string) => void;
}

export class Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private lines: string[] = [];
  private lineWaiters: Array<(line: string) => void> = [];
  stopping = false;

  constructor(readonly spec: ChildSpec) {
    this.proc = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sink = spec.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      readline.createInterface({ input: stream! }).on('line', (line) => {
        this.lines = [...this.lines.slice(-49), line];
        this.lineWaiters.forEach((w) => w(line));
        // Shutdown chatter (e.g. Temporal's poll errors while it stops) is kept for tail() only.
        if (!this.stopping) sink(`[${spec.name}] ${line}`);
      });
    }
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** The last lines the child printed, for error messages. */
  tail(): string {
    return this.lines.slice(-20).join('\n');
  }

  /** Resolves with the first output line that matches. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    return this.race(
      new Promise<string>((resolve) => {
        this.lineWaiters.push((line) => pattern.test(line) && resolve(line));
      }),
      timeoutMs,
      `a line matching ${pattern}`
    );
  }

  /** Polls `probe` until it returns true; fails early if the child exits. */
  async waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const poll = async () => {
      while (!(await probe().catch(() => false))) await new Promise((r) => setTimeout(r, 200));
    };
    await this.race(poll(), timeoutMs, what);
  }

  private async race<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`${this.spec.name} did not become ready (${what}) within ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs
      );
    });
    const died = this.exited.then(({ code, signal }) => {
      throw new Error(`${this.spec.name} exited (code ${code}, signal ${signal}) before it was ready:\n${this.tail()}`);
    });
    try {
      return await Promise.race([work, timeout, died]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` to the child's whole process group (what it spawned too); a gone group is fine. */
  signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.proc.pid!, signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM to the whole process group, SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.signalGroup('SIGTERM');
      const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.signalGroup('SIGKILL'); // Grandchildren that ignored SIGTERM, or outlived a killed leader.
  }

  /** SIGKILL to the whole process group at once; resolves when the child is reaped. */
  async kill(): Promise<void> {
    this.stopping = true;
    this.signalGroup('SIGKILL');
    await this.exited;
  }
}

const ROOT = path.resolve(__dirname, '../..');

/**
 * A TypeScript entry of this repository (`script` relative to its root, or absolute) as a child
 * run by Node with tsx, from the root, with `env` on top of this process's environment: how the
 * stack runs its parts, and how tests and benchmarks run the real entries.
 */
export function repoScript(
  name: string,
  script: string,
  opts: { env?: Record<string, string | undefined>; sink?: (line: string) => void } = {}
): Child {
  return new Child({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', path.resolve(ROOT, script)],
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    sink: opts.sink,
  });
}
