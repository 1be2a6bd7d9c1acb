// Fault injection for tests and chaos work (MLOPS_INFERENCE_FAULTS): a named model version answers
// late (delayMs before every run) and/or fails a share of its requests (errorRate) with a 5xx, so
// a rollout's gates can be shown to roll back a slow or failing candidate on real servers. It is
// off unless the variable is set, and a server with faults logs them at start and on every load.
import type { Config } from '../lib/config';

export type Faults = NonNullable<Config['MLOPS_INFERENCE_FAULTS']>;
export type Fault = Faults[string];

/** The failure an injected fault raises: answered 500, counted as the version's error, not logged per request. */
export class InjectedFault extends Error {
  constructor(model: string, version: number) {
    super(`injected fault in ${model} v${version} (MLOPS_INFERENCE_FAULTS)`);
    this.name = 'InjectedFault';
  }
}

export function faultFor(faults: Faults | undefined, model: string, version: number): Fault | undefined {
  return faults?.[`${model}@${version}`];
}

/** Runs `run` after the fault's delay, unless the fault fails this call. */
export async function withFault<T>(
  fault: Fault,
  model: string,
  version: number,
  run: () => Promise<T>,
  random: () => number = Math.random
): Promise<T> {
  if (fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));
  if (fault.errorRate > 0 && random() < fault.errorRate) throw new InjectedFault(model, version);
  return run();
}
