// Feature definitions: entities and feature views, as a user writes them in features.json (or
// POSTs them to /v1/features). Validated with zod; each view's version is the hash of its
// content (the view and the entity it keys on), so changing a definition makes a new version
// and applying the same file twice changes nothing. docs/features.md documents the format.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../crypto/canonical-json';
import { formatDuration, parseDuration } from '../spec/duration';
import { csvDatasetPath } from '../spec/dataset-path';

export const FEATURE_NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const NAME_HINT = 'letters, digits and _ (at most 64, starting with a letter)';
export const AGGREGATES = ['count', 'sum', 'mean', 'min', 'max'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

const name = z.string().regex(FEATURE_NAME_RE, NAME_HINT);
const column = z.string().min(1, 'a column name').max(200, 'at most 200 characters');

const durationMs = (what: string, maxMs: number) =>
  z.union([z.string().max(40), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0 || ms > maxMs) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} "${value}" is not a duration between 1ms and ${formatDuration(maxMs)}; write e.g. "7d", "12h"`,
      });
      return z.NEVER;
    }
    return ms;
  });

const YEARS_10 = 3650 * 86_400_000;

/** One feature of a view: a plain column, a row transform, or a window aggregate per entity. */
export const featureSchema = z
  .object({
    name,
    /** Plain column (default: the column named like the feature). */
    column: column.optional(),
    /** log(1 + x) of a column (x >= 0; negative values give null). */
    log: column.optional(),
    /** numerator / denominator (null when the denominator is 0 or missing). */
    ratio: z.tuple([column, column]).optional(),
    /** Index of the bucket a column's value falls in: edges [10, 100] give 0 (<10), 1, 2 (>=100). */
    bucket: column.optional(),
    edges: z.array(z.number()).min(1).max(100).optional(),
    /** Window aggregate over the entity's rows with event time in (t - window, t]. */
    window: durationMs('window', YEARS_10).optional(),
    agg: z.enum(AGGREGATES).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const kinds = [f.log, f.ratio, f.bucket, f.agg].filter((k) => k !== undefined).length;
    if (kinds > 1)
      ctx.addIssue({ code: 'custom', message: `feature '${f.name}': give one of log, ratio, bucket or agg` });
    if (f.bucket !== undefined && !f.edges)
      ctx.addIssue({
        code: 'custom',
        path: ['edges'],
        message: `feature '${f.name}': bucket needs edges, e.g. [10, 100]`,
      });
    if (f.edges && !f.edges.every((e, i) => i === 0 || e > f.edges![i - 1]))
      ctx.addIssue({ code: 'custom', path: ['edges'], message: `feature '${f.name}': edges must increase` });
    if ((f.agg === undefined) !== (f.window === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [f.agg === undefined ? 'agg' : 'window'],
        message: `feature '${f.name}': a window aggregate needs both window (e.g. "7d") and agg (${AGGREGATES.join(', ')})`,
      });
    if (f.agg && f.agg !== 'count' && f.column === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['column'],
        message: `feature '${f.name}': agg ${f.agg} needs the column it aggregates`,
      });
    if (f.column !== undefined && (f.log || f.ratio || f.bucket))
      ctx.addIssue({
        code: 'custom',
        path: ['column'],
        message: `feature '${f.name}': column is for plain and aggregate features`,
      });
  });
export type FeatureDef = z.infer<typeof featureSchema>;

export const entitySchema = z
  .object({
    name,
    /** The column(s) naming one entity, in every source and label file. */
    keys: z.array(column).min(1).max(4),
    description: z.string().max(1_000).optional(),
  })
  .strict();
export type EntityDef = z.infer<typeof entitySchema>;

export const viewSchema = z
  .object({
    name,
    entity: name,
    description: z.string().max(1_000).optional(),
    source: z
      .object({
        path: csvDatasetPath(500, 'a feature source is a .csv file with a header'),
      })
      .strict(),
    /** The event-time column of the source. */
    timestamp: column.optional(),
    /** How long a value stays valid after its event time; older values join as null. */
    ttl: durationMs('ttl', YEARS_10),
    features: z.array(featureSchema).min(1).max(200),
  })
  .strict()
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.features.forEach((f, i) => {
      if (seen.has(f.name))
        ctx.addIssue({
          code: 'custom',
          path: ['features', i, 'name'],
          message: `feature '${f.name}' is defined twice`,
        });
      seen.add(f.name);
    });
    if (v.timestamp === undefined) {
      const windowed = v.features.findIndex((f) => f.window !== undefined);
      ctx.addIssue({
        code: 'custom',
        path: windowed >= 0 ? ['features', windowed, 'window'] : ['timestamp'],
        message:
          windowed >= 0
            ? `feature '${v.features[windowed].name}' is a window aggregate but view '${v.name}' has no timestamp; set "timestamp" to its event-time column`
            : `view '${v.name}' needs "timestamp": the event-time column that makes point-in-time joins possible`,
      });
    }
  });
export type ViewDef = z.infer<typeof viewSchema>;
/** What zod accepts (durations as text). */
export type ViewInput = z.input<typeof viewSchema>;

export const MAX_VIEWS_PER_FILE = 100;

export const featuresFileSchema = z
  .object({
    entities: z.array(entitySchema).max(100).default([]),
    views: z.array(viewSchema).max(MAX_VIEWS_PER_FILE).default([]),
  })
  .strict()
  .superRefine((file, ctx) => {
    const entityNames = new Set(file.entities.map((e) => e.name));
    file.views.forEach((v, i) => {
      if (!entityNames.has(v.entity))
        ctx.addIssue({
          code: 'custom',
          path: ['views', i, 'entity'],
          message: `view '${v.name}' names entity '${v.entity}', which the file does not define; add it to "entities" (defined: ${[...entityNames].join(', ') || 'none'})`,
        });
    });
  });
export type FeaturesFile = z.infer<typeof featuresFileSchema>;
export type FeaturesFileInput = z.input<typeof featuresFileSchema>;

/** A view bound to its entity: the unit that is versioned. */
export interface ResolvedView {
  view: ViewDef;
  entity: EntityDef;
}

/** The content hash that versions a view (view + entity; description text excluded). */
export function viewHash(r: ResolvedView): string {
  const { description: _v, ...view } = r.view;
  const { description: _e, ...entity } = r.entity;
  return createHash('sha256').update(canonicalJson({ view, entity })).digest('hex').slice(0, 16);
}

/** Which source columns a feature reads. */
export function featureColumns(f: FeatureDef): string[] {
  if (f.log !== undefined) return [f.log];
  if (f.ratio) return [...f.ratio];
  if (f.bucket !== undefined) return [f.bucket];
  if (f.agg === 'count') return f.column !== undefined ? [f.column] : [];
  return [f.column ?? f.name];
}

/** `name`, `name@v3` or `name@<hash prefix>`. */
export const VIEW_REF_RE = /^([A-Za-z][A-Za-z0-9_]{0,63})(?:@(v[1-9][0-9]{0,8}|[0-9a-f]{6,16}))?$/;
export interface ViewRef {
  name: string;
  version?: number;
  hash?: string;
}
export function parseViewRef(ref: string): ViewRef | undefined {
  const m = VIEW_REF_RE.exec(ref);
  if (!m) return undefined;
  if (!m[2]) return { name: m[1] };
  return m[2].startsWith('v') ? { name: m[1], version: Number(m[2].slice(1)) } : { name: m[1], hash: m[2] };
}
