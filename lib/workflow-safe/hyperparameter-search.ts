// Hyperparameter search plans: grid (every combination, in a stable order) and random (seeded draws
// from lists or { min, max, log, integer } ranges). Pure and deterministic (no I/O, no Math.random):
// the search workflow imports it. Keys are trainer fields or "params.<name>" (command trainer).
import { mulberry32 } from './rng';
export type SearchValue = unknown;
export type SearchRange = { min: number; max: number; log?: boolean; integer?: boolean };
export type SearchSpace = Record<string, SearchValue[] | SearchRange>;
export type Trial = Record<string, SearchValue>;

export function gridTrials(space: SearchSpace, limit: number): Trial[] {
  const keys = Object.keys(space).sort();
  for (const k of keys)
    if (!Array.isArray(space[k])) throw new Error(`search.space.${k}: grid search needs a list of values, not a range`);
  let trials: Trial[] = [{}];
  for (const k of keys) {
    const next: Trial[] = [];
    for (const t of trials) for (const v of space[k] as SearchValue[]) next.push({ ...t, [k]: v });
    trials = next;
    if (trials.length > limit * 64) break; // enormous grids are cut below anyway
  }
  return trials.slice(0, limit);
}

export function randomTrials(space: SearchSpace, count: number, seed: number): Trial[] {
  const rand = mulberry32(seed);
  const keys = Object.keys(space).sort();
  const trials: Trial[] = [];
  for (let i = 0; i < count; i++) {
    const t: Trial = {};
    for (const k of keys) {
      const s = space[k];
      if (Array.isArray(s)) t[k] = s[Math.floor(rand() * s.length)];
      else {
        const u = rand();
        let v = s.log
          ? Math.exp(Math.log(s.min) + u * (Math.log(s.max) - Math.log(s.min)))
          : s.min + u * (s.max - s.min);
        if (s.integer) v = Math.round(v);
        t[k] = v;
      }
    }
    trials.push(t);
  }
  return trials;
}

export function planTrials(search: {
  method: 'grid' | 'random';
  space: SearchSpace;
  trials: number;
  seed: number;
}): Trial[] {
  return search.method === 'grid'
    ? gridTrials(search.space, search.trials)
    : randomTrials(search.space, search.trials, search.seed);
}

/** The trainer spec with a trial's values applied ("params.x" goes into trainer.params). */
export function applyTrial<T extends { params?: Record<string, unknown> }>(trainer: T, trial: Trial): T {
  const out = { ...trainer, params: { ...(trainer.params ?? {}) } } as T & { params: Record<string, unknown> };
  for (const [k, v] of Object.entries(trial)) {
    if (k.startsWith('params.')) out.params[k.slice(7)] = v;
    else (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

export interface TrialOutcome {
  index: number;
  values: Trial;
  status: 'succeeded' | 'failed';
  /** Validation metric (higher is better): accuracy, or R² for regression. */
  metric: number | null;
  error?: string;
}

/** The best succeeded trial by metric (ties: the earlier trial), or null if none succeeded. */
export function bestTrial<T extends TrialOutcome>(trials: T[]): T | null {
  let best: T | null = null;
  for (const t of trials) {
    if (t.status !== 'succeeded' || t.metric === null || !Number.isFinite(t.metric)) continue;
    if (!best || t.metric > (best.metric as number)) best = t;
  }
  return best;
}
