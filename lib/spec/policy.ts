// A model's lifecycle policy (PUT /v1/models/{name}/policy): how it is monitored and when it is
// retrained. One schema for the API's validation, the OpenAPI document, the CLI and the activities
// that apply it. `monitor` is owned by lib/monitoring, `retrain` by lib/lifecycle.
import { z } from 'zod';
import { parseDuration, WHOLE_INTERVAL_RE } from './duration';
import { columnName, DATASET_NAME_RE, runSpecSchema } from './schema';

const DAY_MS = 86_400_000;

const duration = (example: string, minMs: number, max?: { ms: number; why: string }) =>
  z
    .union([z.string().max(32), z.number()])
    .refine((v) => (parseDuration(v) ?? -1) >= minMs && (!max || parseDuration(v)! <= max.ms), {
      message: `a duration such as "${example}" (at least ${minMs / 1000} s${max ? `, at most ${max.ms / DAY_MS} days: ${max.why}` : ''})`,
    })
    .transform((v) => parseDuration(v)!);

/**
 * The longest monitoring window: a window costs a point lookup per hour it covers (lib/store/
 * drift-sketches.ts), and the sketches are kept MLOPS_PREDICTION_LOG_TTL_DAYS (default 30).
 */
const MAX_MONITOR_WINDOW_MS = 30 * DAY_MS;

export const monitorPolicySchema = z
  .object({
    /** How often a monitoring window is computed (a Temporal Schedule per model). */
    every: duration('1h', 10_000).default('1h'),
    /** How far back each window reads the drift sketches. */
    window: duration('24h', 10_000, {
      ms: MAX_MONITOR_WINDOW_MS,
      why: 'the drift sketches are kept 30 days by default, MLOPS_PREDICTION_LOG_TTL_DAYS',
    }).default('24h'),
    /** Drift thresholds; absent fields take Evidently's defaults (lib/monitoring). */
    thresholds: z
      .object({
        /** p-value below which KS / chi² / Z call a column drifted (small reference sets). */
        pValue: z.number().gt(0).lt(1).optional(),
        psi: z.number().positive().optional(),
        wasserstein: z.number().positive().optional(),
        jensenShannon: z.number().positive().max(1).optional(),
        /** Share of drifted columns at which the dataset counts as drifted. */
        driftShare: z.number().gt(0).max(1).optional(),
        /** A reference of at most this many rows is judged by p-values, a larger one by distances. */
        smallReferenceRows: z.number().int().min(0).max(1_000_000_000).optional(),
      })
      .strict()
      .default({}),
    /** The test that decides per column type; absent: by reference size, as Evidently does. */
    methods: z
      .object({
        numeric: z.enum(['ks', 'wasserstein', 'psi']).optional(),
        categorical: z.enum(['chi2', 'z', 'jensen_shannon', 'psi']).optional(),
      })
      .strict()
      .default({}),
    /** Fewest logged predictions a window needs before it reports drift at all. */
    minRows: z.number().int().min(1).max(10_000_000).default(100),
    /** Fewest labelled rows (POST /v1/models/{name}/feedback) before a window reports quality. */
    minLabels: z.number().int().min(1).max(10_000_000).default(30),
    /**
     * The input tensor that carries each row's own id (e.g. "passenger_id"): the inference server
     * takes it out before the model sees the request and logs the ids, so feedback can label rows
     * by id (`{"rows": [{"id", "label"}]}`). Absent: such a tensor is refused like any unknown input.
     */
    idColumn: columnName.optional(),
  })
  .strict();

// Written as regular expressions (not code) so the OpenAPI document states exactly what is accepted.
const CRON_FIELD = '(?:[0-9*,/-]+|[A-Za-z]{3})';
const CRON_RE = new RegExp(`^\\s*(?:${CRON_FIELD}\\s+){4}${CRON_FIELD}\\s*$`);
const SCHEDULE_RE = new RegExp(`${CRON_RE.source}|${WHOLE_INTERVAL_RE.source}`);

/** 'cron' or 'interval' for a valid retrain.schedule, else null. */
export function scheduleKind(s: string): 'cron' | 'interval' | null {
  if (WHOLE_INTERVAL_RE.test(s)) return 'interval';
  return CRON_RE.test(s) ? 'cron' : null;
}

export const retrainPolicySchema = z
  .object({
    /** Cron ("0 3 * * 0", UTC) or interval ("7d", at least a minute): a Temporal Schedule per model. */
    schedule: z
      .string()
      .min(1)
      .max(100)
      .regex(
        SCHEDULE_RE,
        'a cron expression with 5 fields ("0 3 * * 0") or a whole number of minutes, hours, days or weeks ("90m", "7d")'
      )
      .optional(),
    /** What the schedule does when a tick is still running: skip (default) or buffer one. */
    scheduleOverlap: z.enum(['skip', 'buffer_one']).default('skip'),
    /** Ticks missed while Temporal was down are still sent when at most this late. */
    catchupWindow: duration('1h', 60_000).default('1h'),
    onData: z
      .object({
        /** The name POST /v1/datasets/{name}/events announces changes under. */
        dataset: z.string().regex(DATASET_NAME_RE),
        /** How often the CPU fleet fingerprints the spec's dataset for a change (0 = only events). */
        checkEvery: z
          .union([z.string().max(32), z.number()])
          .refine((v) => v === 0 || v === '0' || (parseDuration(v) ?? -1) >= 10_000, {
            message: 'a duration of at least 10 s such as "5m", or 0 for events only',
          })
          .transform((v) => (v === 0 || v === '0' ? 0 : parseDuration(v)!))
          .default('5m'),
      })
      .strict()
      .optional(),
    onCommit: z
      .object({
        /** The repository whose pushes retrain (its secret is in MLOPS_GIT_HOOK_SECRETS). */
        repository: z
          .string({
            required_error:
              'required: the repository whose pushes retrain, as owner/name ("acme/penguins"), as in the push payload\'s repository.full_name (GitHub) or project.path_with_namespace (GitLab)',
          })
          .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name, e.g. "acme/penguins"'),
        branch: z.string().min(1).max(255).default('main'),
      })
      .strict()
      .optional(),
    onDrift: z.boolean().default(false),
    /** No new run within this long of the last one started. */
    cooldown: duration('6h', 0).default('6h'),
    /** Runs started per UTC day at most. */
    maxPerDay: z.number().int().min(1).max(100).default(2),
    /** The run spec each retraining starts (its `model` must be the policy's model). */
    spec: runSpecSchema,
  })
  .strict();

export const modelPolicySchema = z
  .object({
    monitor: monitorPolicySchema.optional(),
    retrain: retrainPolicySchema.optional(),
  })
  .strict();

export type ModelPolicyInput = z.input<typeof modelPolicySchema>;
export type ModelPolicy = z.output<typeof modelPolicySchema>;
export type MonitorPolicy = z.output<typeof monitorPolicySchema>;
export type RetrainPolicy = z.output<typeof retrainPolicySchema>;
