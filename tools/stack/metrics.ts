// The stack launcher's own Prometheus metrics: which children are up, how they ended and
// how often each was restarted, so a dashboard sees a flapping worker that the log scrolled
// past. Served on MLOPS_STACK_METRICS_PORT (lib/telemetry/metrics-server.ts).
import { Counter, Gauge, Registry } from 'prom-client';

export interface StackMetrics {
  registry: Registry;
  up(child: string, isUp: boolean): void;
  exited(child: string, exit: { code: number | null; signal: NodeJS.Signals | null }): void;
  /** Counts a restart and returns how many this child has had. */
  restarted(child: string): number;
}

export function createStackMetrics(): StackMetrics {
  const registry = new Registry();
  const up = new Gauge({
    name: 'mlops_stack_child_up',
    help: '1 while the child process of the embedded stack runs, 0 while it is down or restarting',
    labelNames: ['child'] as const,
    registers: [registry],
  });
  const exits = new Counter({
    name: 'mlops_stack_child_exits_total',
    help: 'Unexpected exits of a child of the embedded stack, by exit code or signal',
    labelNames: ['child', 'code', 'signal'] as const,
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'mlops_stack_child_restarts_total',
    help: 'Restarts of a child of the embedded stack by its supervisor',
    labelNames: ['child'] as const,
    registers: [registry],
  });
  const counts = new Map<string, number>();
  return {
    registry,
    up: (child, isUp) => up.set({ child }, isUp ? 1 : 0),
    exited: (child, { code, signal }) =>
      exits.inc({ child, code: code === null ? '' : String(code), signal: signal ?? '' }),
    restarted: (child) => {
      restarts.inc({ child });
      const n = (counts.get(child) ?? 0) + 1;
      counts.set(child, n);
      return n;
    },
  };
}
