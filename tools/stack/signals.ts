// Ctrl-C, SIGTERM and SIGHUP for the stack launcher. A terminal sends SIGINT to the whole
// foreground process group and npm forwards it once more, so one key press arrives as two
// signals: signals within `windowMs` of the first count as one (a graceful stop). A signal
// after that escalates to `kill`. The launcher never exits from here: `done` resolves with
// the exit status only once `stop` or `kill` has reaped every child.
export interface StopSignals {
  /** True once a stop signal arrived. */
  readonly requested: boolean;
  /** The exit status (0 after a graceful stop, 130 after an escalated kill), once every child is gone. */
  readonly done: Promise<number>;
}

export function handleStopSignals(opts: {
  log: (line: string) => void;
  stop: () => Promise<void>;
  kill: () => Promise<void>;
  windowMs?: number;
  now?: () => number;
  /** Where the signals come from (tests pass an EventEmitter). */
  source?: NodeJS.EventEmitter;
}): StopSignals {
  const windowMs = opts.windowMs ?? 1_000;
  const now = opts.now ?? Date.now;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let firstAt: number | undefined;
  let escalated = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (firstAt === undefined) {
      firstAt = now();
      opts.log(`${sig}: stopping every child (press Ctrl-C again, after a second, to kill them at once)`);
      void opts.stop().then(() => escalated || resolveDone(0));
      return;
    }
    if (escalated || now() - firstAt < windowMs) return;
    escalated = true;
    opts.log(`${sig} again: killing every child now`);
    void opts.kill().then(() => resolveDone(130));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) (opts.source ?? process).on(sig, onSignal);
  return {
    get requested() {
      return firstAt !== undefined;
    },
    done,
  };
}
