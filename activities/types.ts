// Inputs and outputs of the pipeline's activities. Types only (no runtime imports), so the
// workflow can `import type` them. Everything here is small JSON: bytes travel as ArtifactRef.
import type { ApprovalDoc } from '../lib/store/approvals';
import type { ArtifactRef } from '../lib/store/artifacts';
import type { RunStatus } from '../lib/store/runs';
import type { FeatureViewLineage } from '../lib/store/models';
import type { EvaluationSummary, GateResult, RunSpec } from '../lib/spec';
import type { HeldOutRows } from '../lib/workflow-safe/quality-gates';
import type { ColumnType, Task } from '../lib/ml/types';

export type { ArtifactRef, RunStatus, EvaluationSummary, GateResult, RunSpec };

export type { Task };
export type Feature = { name: string; type: ColumnType };

export interface RunRef {
  runId: string;
  spec: RunSpec;
}

export interface IngestResult {
  /** The parsed dataset as an encoded frame. */
  frame: ArtifactRef;
  /** Column summaries and structural issues found while reading (JSON). */
  profile: ArtifactRef;
  /** Fingerprint of the source file's bytes. */
  sha256: string;
  bytes: number;
  rows: number;
  format: 'csv' | 'jsonl';
  /** Human-readable origin: "bundled:penguins", "path:x/y.csv", "synthetic:<file>" or "features:<labels>+<views>". */
  source: string;
  /** For a training set joined from feature views: each view's version and the materialization it read. */
  featureViews?: FeatureViewLineage[];
}

export interface ValidateResult {
  ok: true;
  task: Task;
  features: Feature[];
  rows: number;
  missingTargetRows: number;
  classes?: string[];
  warnings: string[];
}

export interface FeaturesResult {
  train: ArtifactRef;
  test: ArtifactRef;
  trainRows: number;
  testRows: number;
  features: Feature[];
}

export interface TrainInput extends RunRef {
  task: Task;
  features: Feature[];
  train: ArtifactRef;
  datasetSha256: string;
}

/**
 * What every trainer hands on (the train activity, and the distributed-training, command-training
 * and search children alike). A value the trainer cannot know is null, never a stand-in number:
 * a command trainer (docs/trainers.md) reports only what its process printed.
 */
export interface TrainResult {
  /** The trained model in the trainer's own format (for re-export); a command trainer's is its ONNX. */
  model: ArtifactRef;
  /** Float ONNX export with preprocessing inside. */
  onnx: ArtifactRef;
  /** Epochs trained; null when a command trainer's metric lines name no `epoch` or `round`. */
  epochsRun: number | null;
  /** The epoch this attempt resumed from (0 = from scratch). */
  resumedFromEpoch: number;
  /** The epoch whose weights were kept; null when the trainer does not say (command trainers). */
  bestEpoch: number | null;
  /** Values in the model's weights (for a command trainer: the ONNX graph's initializers). */
  parameterCount: number;
  classes?: string[];
  /** The last epoch's losses and validation metric; a value the trainer did not report is null. */
  final: { trainLoss: number | null; valLoss: number | null; valMetric: number | null } | null;
  attempt: number;
}

export interface EvaluateInput extends RunRef {
  task: Task;
  onnx: ArtifactRef;
  test: ArtifactRef;
  /** The training split, whose row digests are kept with the version (absent in older histories). */
  train?: ArtifactRef;
}

/** Digests of the rows a version was trained on (lib/ml/dataset/row-hashes.ts), kept in its lineage. */
export interface TrainRows {
  hashes: ArtifactRef;
  rows: number;
  /** The columns hashed, in order (features then target). */
  columns: string[];
}

export interface ModelEvaluation extends EvaluationSummary {
  /**
   * Row-major k x k counts: counts[t * k + p] = test rows of true class labels[t] predicted as
   * labels[p]. Flat because the MongoDB-wire server (FerretDB v1) stores no nested arrays.
   */
  confusionMatrix?: { labels: string[]; counts: number[] };
  classes?: string[];
  rows: number;
}

export interface EvaluateResult {
  challenger: ModelEvaluation;
  /**
   * The model holding `production` for the same name (null: none, incompatible, or no test row it
   * was not trained on), scored on `heldOut` rows, on which the challenger is scored again.
   */
  champion: { version: number; runId: string; metrics: ModelEvaluation; heldOut?: HeldOutRows } | null;
  championNote?: string;
  /** This run's training rows, to be kept with its version. */
  trainRows?: TrainRows;
}

export interface OptimiseInput extends RunRef {
  task: Task;
  onnx: ArtifactRef;
  test: ArtifactRef;
  floatMetrics: ModelEvaluation;
}

export interface OptimiseCandidate {
  kind: 'int8' | 'pruned_int8';
  ref: ArtifactRef;
  metric: number;
  /** Float metric minus candidate metric (positive = worse). */
  drop: number;
  withinTolerance: boolean;
  sparsity?: number;
}

export interface OptimiseResult {
  /** Which artifact serves production: the chosen optimised one, or the float model. */
  chosen: 'float' | 'int8' | 'pruned_int8';
  serving: ArtifactRef;
  metricName: string;
  floatMetric: number;
  candidates: OptimiseCandidate[];
  reason: string;
}

export interface RegisterInput extends RunRef {
  task: Task;
  features: Feature[];
  ingest: IngestResult;
  train: TrainResult;
  evaluation: EvaluateResult;
  gate: GateResult;
}

export interface RegisterResult {
  name: string;
  version: number;
  created: boolean;
}

/** An approval decision as the workflow sends it: the stored document, its times as epoch ms (arguments are JSON). */
export type DecisionInput = Omit<ApprovalDoc, '_id' | 'requestedAt' | 'deadline' | 'decidedAt'> & {
  requestedAt: number;
  deadline: number;
  decidedAt: number;
};

export interface PromoteInput {
  runId: string;
  model: string;
  version: number;
  optimisation: OptimiseResult | null;
  approver: string | null;
}

export interface PromoteResult {
  alias: 'production';
  version: number;
  previousVersion: number | null;
  moved: boolean;
  serving: ArtifactRef;
}

export interface RunStatePatch {
  runId: string;
  status?: RunStatus;
  stage?: string;
  /** Extra fields for the runs document (results of a stage). */
  fields?: Record<string, unknown>;
}

export interface WorkflowStepEvent {
  runId: string;
  step: string;
  status: 'completed' | 'failed';
  startedAt: number;
  endedAt: number;
  details?: Record<string, unknown>;
  error?: string;
}

export interface FinishInput {
  runId: string;
  status: RunStatus;
  stage: string;
  startedAt: number;
  endedAt: number;
  error?: { message: string; type?: string; stage?: string } | null;
  fields?: Record<string, unknown>;
}
