// Durations in run specs: a number of milliseconds or a string such as "72h", "30 minutes",
// "1.5d", "500ms". Pure and dependency-free so workflow code may import it.

const UNITS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1_000,
  sec: 1_000,
  secs: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/**
 * A duration of at least a minute written as a whole number of minutes, hours, days or weeks ("90m",
 * "7d"): a regular expression, so an API document can state exactly what a field accepts.
 */
export const WHOLE_INTERVAL_RE = /^\s*[1-9][0-9]{0,5}\s*(?:m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)\s*$/;

/** Milliseconds in `value`, or undefined when it is not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return undefined;
  const unit = m[2] === '' ? 'ms' : m[2].toLowerCase();
  const factor = UNITS[unit];
  if (factor === undefined) return undefined;
  return Math.round(Number(m[1]) * factor);
}

/** "72h" style rendering for messages. */
export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
