// The run spec: what a user submits to start a pipeline run (POST /v1/runs body, or the
// `spec` of the `pipeline` workflow input). Validated with zod; every field but `model`,
// `dataset` and `target` has a default, so the smallest spec is
//   { "model": "penguins", "dataset": { "name": "penguins" }, "target": "species" }.
// Unknown fields are refused at every level (a typo must not be silently ignored).
// docs/run-spec.md documents every field; keep the two in step.
import { z } from 'zod';
import { VIEW_REF_RE } from '../features/definition';
import { datasetPath } from './dataset-path';
import { REGION_HINT, REGION_RE } from '../workflow-safe/queues';
import { deploySchema } from './deploy';
import { durationField } from './duration-field';
import { COLUMN_TYPES, TASKS } from '../ml/types';

/** Model names double as registry keys and search-attribute values. */
export const MODEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Bundled dataset names (files under the repository's datasets/ folder). */
export const DATASET_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const columnName = z.string().min(1, 'a column name').max(200, 'at most 200 characters');

const bundledDataset = z
  .object({ name: z.string().regex(DATASET_NAME_RE, 'a bundled dataset name, e.g. "penguins"') })
  .strict();
const fileDataset = z
  .object({
    path: datasetPath,
    format: z.enum(['csv', 'jsonl']).optional(),
  })
  .strict();
const syntheticDataset = z
  .object({
    synthetic: z
      .object({
        task: z.enum(TASKS).default('classification'),
        rows: z.number().int().min(10).max(50_000_000).default(1_000),
        numeric: z.number().int().min(0).max(500).default(4),
        categorical: z.number().int().min(0).max(50).default(1),
        classes: z.number().int().min(2).max(50).default(3),
        noise: z.number().min(0).max(10).default(0.1),
        missing: z.number().min(0).max(0.5).default(0),
        seed: z.number().int().default(1),
      })
      .strict(),
  })
  .strict();

/** A training set built by a point-in-time join of a label file with feature views (docs/features.md). */
const featuresDataset = z
  .object({
    features: z
      .object({
        /** Label (entity) CSV under the datasets root: entity keys, the label time, the target. */
        entities: datasetPath,
        /** The label-time column: features are joined as of this time. */
        timestamp: columnName,
        /** Views as "name@vN" (a version), "name@<hash>" or "name" (the latest at the run's start). */
        views: z
          .array(z.string().regex(VIEW_REF_RE, 'a feature view reference such as "customer_stats@v3"'))
          .min(1)
          .max(20),
      })
      .strict(),
  })
  .strict();

export const trainerSchema = z
  .object({
    /** builtin = the TypeScript trainer; command = any process following docs/trainers.md. */
    type: z.enum(['builtin', 'command']).default('builtin'),
    /** Data-parallel world size (builtin trainer): K GPU workers train one job, one round per epoch. */
    workers: z.number().int().min(1).max(64).default(1),
    /** command trainer: argv of the process (no shell), e.g. ["python3", "examples/pytorch/train.py"]. */
    command: z.array(z.string().min(1).max(1_000)).min(1).max(200).optional(),
    /** command trainer: free-form hyperparameters handed to the process in its params JSON. */
    params: z.record(z.string(), z.unknown()).default({}),
    /** command trainer: the process is killed (whole process group) after this long. */
    timeout: durationField('24h', 1_000, 7 * 86_400_000),
    /** linear = linear / logistic / softmax regression by task; mlp = ReLU hidden layers. */
    model: z.enum(['linear', 'mlp']).default('mlp'),
    hidden: z.array(z.number().int().min(1).max(4096)).max(8).default([32]),
    epochs: z.number().int().min(1).max(10_000).default(60),
    batchSize: z.number().int().min(1).max(65_536).default(32),
    learningRate: z.number().positive().max(10).default(0.01),
    l2: z.number().min(0).max(10).default(0.0001),
    patience: z.number().int().min(0).max(10_000).default(10),
    validationFraction: z.number().min(0).max(0.5).default(0.1),
    seed: z.number().int().default(42),
    /** Epochs between checkpoints written to the artifact store. */
    checkpointEvery: z.number().int().min(1).max(10_000).default(1),
  })
  .strict();

export const gatesSchema = z
  .object({
    minAccuracy: z.number().min(0).max(1).optional(),
    minMacroF1: z.number().min(0).max(1).optional(),
    minRocAuc: z.number().min(0).max(1).optional(),
    maxLogLoss: z.number().min(0).optional(),
    maxRmse: z.number().min(0).optional(),
    maxMae: z.number().min(0).optional(),
    minR2: z.number().max(1).optional(),
    /**
     * Largest drop of the primary metric (accuracy; R² for regression) allowed against the model
     * holding the `production` alias for the same name. null = no champion comparison gate.
     */
    maxRegression: z.number().min(0).max(1).nullable().default(0.02),
  })
  .strict();

export const runSpecSchema = z
  .object({
    model: z.string().regex(MODEL_NAME_RE, 'letters, digits, _ . - (at most 64, starting with a letter or digit)'),
    description: z.string().max(1_000).optional(),
    /**
     * Region whose workers run the whole run (queues `<queue>@<region>`); defaults to the dataset's
     * region (MLOPS_DATASET_REGIONS). lib/spec/residency.ts decides and refuses what may not run.
     */
    region: z.string().regex(REGION_RE, REGION_HINT).optional(),
    dataset: z.union([bundledDataset, fileDataset, syntheticDataset, featuresDataset], {
      errorMap: () => ({
        message:
          'dataset must be { "name": "<bundled>" }, { "path": "<file under the datasets root>" }, { "synthetic": {...} } or { "features": { "entities", "timestamp", "views" } }',
      }),
    }),
    target: columnName,
    /** Inferred from the target column when absent: text or few integer values = classification. */
    task: z.enum(TASKS).optional(),
    features: z
      .object({
        /** Force a column's type (e.g. a numeric code that is really categorical). */
        types: z.record(columnName, z.enum(COLUMN_TYPES)).default({}),
        /** Columns not to use as features (ids, leaks, free text). */
        drop: z.array(columnName).max(1_000).default([]),
      })
      .strict()
      .default({}),
    split: z
      .object({
        test: z
          .number()
          .gt(0, 'split.test must be between 0 and 1 (exclusive)')
          .lt(1, 'split.test must be between 0 and 1 (exclusive)')
          .default(0.2),
        seed: z.number().int().default(42),
        /** Keep class proportions in both splits (classification only). */
        stratify: z.boolean().default(true),
      })
      .strict()
      .default({}),
    trainer: trainerSchema.default({}).refine((t) => t.type !== 'command' || !!t.command, {
      message: 'trainer.command is required when trainer.type is "command"',
      path: ['command'],
    }),
    /** Hyperparameter search: trials over the trainer's fields (or "params.<name>"); the best by validation metric wins. */
    search: z
      .object({
        method: z.enum(['grid', 'random']).default('grid'),
        /** Field -> candidate values (grid and random), or { min, max, log? } ranges (random only). */
        space: z.record(
          z
            .string()
            .regex(
              /^(learningRate|l2|batchSize|epochs|hidden|patience|seed|params\.[A-Za-z0-9_.-]+)$/,
              'a trainer field (learningRate, l2, batchSize, epochs, hidden, patience, seed) or "params.<name>"'
            ),
          z.union([
            z.array(z.unknown()).min(1).max(1_000),
            z
              .object({
                min: z.number(),
                max: z.number(),
                log: z.boolean().default(false),
                integer: z.boolean().default(false),
              })
              .strict(),
          ])
        ),
        /** Random search: how many trials (grid: capped to this many). */
        trials: z.number().int().min(1).max(1_000).default(8),
        /** Trials running at once. */
        parallelism: z.number().int().min(1).max(64).default(2),
        seed: z.number().int().default(1),
      })
      .strict()
      .optional(),
    gates: gatesSchema.default({}),
    approval: z
      .object({
        required: z.boolean().default(true),
        /** How long the run waits for a decision before it ends `expired`. */
        timeout: durationField('72h', 1_000, 365 * 86_400_000),
      })
      .strict()
      .default({}),
    optimise: z
      .object({
        int8: z.boolean().default(true),
        /** Magnitude pruning before quantisation; kept only where it does not cost accuracy beyond the tolerance. */
        prune: z.boolean().default(true),
        sparsity: z.number().min(0.05).max(0.95).default(0.5),
        /** Largest accuracy drop (R² drop for regression) the optimised model may show against the float model. */
        maxAccuracyDrop: z.number().min(0).max(1).default(0.01),
      })
      .strict()
      .default({}),
    /** How an approved version reaches production (docs/deployments.md); absent = direct promotion. */
    deploy: deploySchema.optional(),
  })
  .strict();

/** What a user writes (defaults optional). */
export type RunSpecInput = z.input<typeof runSpecSchema>;
/** A validated spec with every default filled in; `approval.timeout` is in milliseconds. */
export type RunSpec = z.output<typeof runSpecSchema>;
export type DatasetSpec = RunSpec['dataset'];
export type TrainerSpec = RunSpec['trainer'];
export type GatesSpec = RunSpec['gates'];
export type SyntheticSpec = Extract<DatasetSpec, { synthetic: unknown }>['synthetic'];
