// What a materialization request resolves to before its workflow starts: the view version, the
// range as milliseconds, the partition width, and the id that names both the workflow and its
// document. The id is a hash of (version, range, width), so the same request twice addresses the
// same materialization: the second run finds every partition done and does nothing.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseDuration, WHOLE_INTERVAL_RE } from '../spec/duration';
import { parseTimestamp, TIMESTAMP_FORMATS, TIMESTAMP_RE } from './timestamps';

const time = (what: string) =>
  z
    .string()
    .max(40)
    .regex(TIMESTAMP_RE, `${what}: ${TIMESTAMP_FORMATS}`)
    .transform((v, ctx) => {
      const ms = parseTimestamp(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `${what} "${v}" is not a time; ${TIMESTAMP_FORMATS}` });
        return z.NEVER;
      }
      return ms;
    });

export const materializeBody = z
  .object({
    start: time('start').describe('Start of the range (inclusive), e.g. 2026-01-01'),
    end: time('end').describe('End of the range (exclusive), e.g. 2026-07-01'),
    version: z.number().int().min(1).max(1_000_000_000).optional().describe('View version (default the latest)'),
    partition: z
      .string()
      .max(20)
      .regex(WHOLE_INTERVAL_RE, 'partition must be a whole number of minutes, hours, days or weeks, e.g. "1d"')
      .default('1d')
      .transform((v) => parseDuration(v)!)
      .describe('Width of a time partition (default 1d)'),
    parallelism: z.number().int().min(1).max(32).default(4).describe('Partitions materialized at once'),
  })
  .strict();
export type MaterializeBody = z.output<typeof materializeBody>;

export function materializationWorkflowId(
  view: string,
  version: number,
  b: Pick<MaterializeBody, 'start' | 'end' | 'partition'>
): string {
  const h = createHash('sha256').update(`${b.start}:${b.end}:${b.partition}`).digest('hex').slice(0, 12);
  return `fm-${view}-v${version}-${h}`;
}
