// Keeps the embedded stack's children running, as a process supervisor would. A child that
// dies is restarted after an exponential backoff (1 s doubling to 30 s), logged and counted;
// one that keeps dying (a crash loop) fails the stack, with its last log lines, because
// restarting it forever would hide the fault. MLOPS_STACK_RESTART=never fails the stack on
// the first death instead, for an outer supervisor (systemd, compose) to act on.
// A child is one ServiceDef: how to spawn it and how to tell it is ready.
import type { Child } from './child';
import type { StackMetrics } from './metrics';

export interface ServiceDef {
  name: string;
  /** Spawns the process; called again, with the same arguments, to restart it. */
  spawn: () => Child;
  /** Resolves once the spawned child serves (rejects if it exits first or times out). */
  ready: (child: Child) => Promise<unknown>;
}

export type RestartPolicy = 'always' | 'never';

export interface SupervisorOptions {
  policy: RestartPolicy;
  log: (line: string) => void;
  metrics?: StackMetrics;
  /** First restart delay, doubled per death in a row up to maxMs. */
  backoff?: { baseMs: number; maxMs: number };
  /** This many restarts within windowMs is a crash loop; a child up for windowMs starts its backoff again. */
  crashLoop?: { restarts: number; windowMs: number };
}

/** Why the stack must stop: the child, how it ended, and what it printed last. */
export interface StackFailure {
  child: string;
  reason: string;
  tail: string;
}

interface Supervised {
  def: ServiceDef;
  child: Child;
  restarts: number[];
}

const describeExit = ({ code, signal }: { code: number | null; signal: NodeJS.Signals | null }) =>
  signal ? `signal ${signal}` : `code ${code}`;

/** Spawns `def` and waits until it is ready; a child that fails to become ready is stopped again. */
export async function startService(def: ServiceDef): Promise<Child> {
  const child = def.spawn();
  try {
    await def.ready(child);
    return child;
  } catch (err) {
    await child.stop(5_000);
    throw err;
  }
}

export class Supervisor {
  /** Resolves when a child died for good (crash loop, or policy never): the stack must stop. */
  readonly failed: Promise<StackFailure>;
  private reportFailure: (failure: StackFailure) => void = () => undefined;
  private readonly services: Supervised[] = [];
  private stopping = false;
  private wakeSleepers: () => void = () => undefined;
  private readonly stopRequested = new Promise<void>((resolve) => (this.wakeSleepers = resolve));
  private stopped?: Promise<void>;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly crashLoop: { restarts: number; windowMs: number };

  constructor(private readonly opts: SupervisorOptions) {
    this.failed = new Promise((resolve) => (this.reportFailure = resolve));
    this.backoff = opts.backoff ?? { baseMs: 1_000, maxMs: 30_000 };
    this.crashLoop = opts.crashLoop ?? { restarts: 5, windowMs: 60_000 };
  }

  /** Starts the services side by side and resolves once all are ready; from then on each is supervised. */
  async startAll(defs: ServiceDef[]): Promise<void> {
    await Promise.all(defs.map((def) => this.start(def)));
  }

  private async start(def: ServiceDef): Promise<void> {
    if (this.stopping) throw new Error(`the stack is stopping; ${def.name} was not started`);
    this.opts.log(`starting ${def.name}`);
    const svc: Supervised = { def, child: def.spawn(), restarts: [] };
    this.services.push(svc);
    this.opts.metrics?.up(def.name, true);
    await def.ready(svc.child);
    void this.supervise(svc);
  }

  private async supervise(svc: Supervised): Promise<void> {
    const { name } = svc.def;
    let streak = 0;
    for (;;) {
      const startedAt = Date.now();
      const exit = await svc.child.exited;
      if (this.stopping) return;
      svc.child.signalGroup('SIGKILL'); // What the dead child spawned must not hold its ports.
      this.opts.metrics?.exited(name, exit);
      this.opts.metrics?.up(name, false);
      const how = describeExit(exit);
      if (this.opts.policy === 'never') {
        this.reportFailure({
          child: name,
          reason: `${name} exited (${how}); MLOPS_STACK_RESTART=never`,
          tail: svc.child.tail(),
        });
        return;
      }
      const now = Date.now();
      svc.restarts = svc.restarts.filter((t) => now - t < this.crashLoop.windowMs);
      if (svc.restarts.length >= this.crashLoop.restarts) {
        const window = Math.round(this.crashLoop.windowMs / 1000);
        this.reportFailure({
          child: name,
          reason: `${name} exited (${how}) after ${svc.restarts.length} restarts within ${window} s: a crash loop`,
          tail: svc.child.tail(),
        });
        return;
      }
      if (now - startedAt >= this.crashLoop.windowMs) streak = 0;
      const delay = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** streak++);
      svc.restarts.push(now);
      const count = this.opts.metrics?.restarted(name) ?? svc.restarts.length;
      this.opts.log(`${name} exited (${how}); restart ${count} in ${(delay / 1000).toFixed(1)} s`);
      await Promise.race([new Promise((r) => setTimeout(r, delay).unref()), this.stopRequested]);
      if (this.stopping) return;
      svc.child = svc.def.spawn();
      try {
        await svc.def.ready(svc.child);
        this.opts.metrics?.up(name, true);
        this.opts.log(`${name} is back (restart ${count})`);
      } catch (err) {
        // Not ready in time (or died at once): stop it, and the loop counts it as the next death.
        if (!this.stopping) this.opts.log(`${name} did not come back: ${err instanceof Error ? err.message : err}`);
        if (!this.stopping) await svc.child.stop(5_000);
      }
    }
  }

  /** Stops every child, the last started first (SIGTERM, then SIGKILL after a grace); idempotent. */
  stop(): Promise<void> {
    this.stopping = true;
    this.wakeSleepers();
    this.stopped ??= (async () => {
      for (const svc of [...this.services].reverse()) await svc.child.stop();
    })();
    return this.stopped;
  }

  /** SIGKILL to every child's process group at once; resolves when every child is reaped. */
  async kill(): Promise<void> {
    this.stopping = true;
    this.wakeSleepers();
    await Promise.all(this.services.map((svc) => svc.child.kill()));
  }
}
