// Event and label timestamps in feature sources: ISO-8601 text (a date, or a date and time with
// Z or an offset; a time without a zone is read as UTC so a file means the same on every
// machine) or Unix seconds. Anything else is refused: a guessed timestamp leaks or loses data.

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const UNIX_SECONDS = /^-?\d{1,12}(?:\.\d{1,6})?$/;
/** What parseTimestamp may accept, as one pattern (for API documents). */
export const TIMESTAMP_RE = new RegExp(`${ISO.source}|${UNIX_SECONDS.source}`);

/** The hint every "not a timestamp" message ends with. */
export const TIMESTAMP_FORMATS = 'write ISO-8601 such as 2026-01-31T12:00:00Z (or 2026-01-31) or Unix seconds';

/** Milliseconds since the epoch, or undefined when `text` is not a timestamp. */
export function parseTimestamp(text: string): number | undefined {
  const s = text.trim();
  if (UNIX_SECONDS.test(s)) return Math.round(Number(s) * 1000);
  const m = ISO.exec(s);
  if (!m) return undefined;
  const iso = s.replace(' ', 'T');
  const ms = Date.parse(s.length === 10 ? `${iso}T00:00:00Z` : m[1] ? iso : `${iso}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}
