// A duration field of a spec (run spec, deploy block): a number of milliseconds or a string such
// as "10m", validated against bounds and turned into milliseconds. One definition, so every
// duration a user writes reads and fails the same way.
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration';

export const durationField = (def: string, minMs: number, maxMs: number) =>
  z
    .union([z.string().max(40), z.number()])
    .default(def)
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; write e.g. "72h", "30m", "10s"` });
        return z.NEVER;
      }
      if (ms < minMs || ms > maxMs) {
        ctx.addIssue({
          code: 'custom',
          message: `must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)} (got ${formatDuration(ms)})`,
        });
        return z.NEVER;
      }
      return ms;
    });
