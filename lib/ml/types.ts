// Public data types of the ML toolkit. Kept free of runtime imports so activities, workflows' type
// imports and the API can depend on them without loading onnxruntime.

/** The kinds of feature column; each vocabulary is written once (the status-vocabularies test). */
export const COLUMN_TYPES = ['numeric', 'categorical'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];
export interface FeatureSpec {
  name: string;
  type: ColumnType;
}

/** Column-major table. Numeric columns are Float64Array with NaN for missing; categorical are (string|null)[]. */
export interface Frame {
  length: number;
  columns: Record<string, Float64Array | (string | null)[]>;
}

export const TASKS = ['classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];

export interface TrainSpec {
  task: Task;
  target: string;
  features: FeatureSpec[];
  /** linear = linear/logistic/softmax regression by task and class count; mlp = ReLU hidden layers. */
  model: { kind: 'linear' | 'mlp'; hidden?: number[] };
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Penalty 0.5 * l2 * ||W||^2 added to the mean per-sample loss (biases are not penalised). */
  l2: number;
  /** Early stopping: stop after this many epochs without validation-loss improvement (0 disables). */
  patience: number;
  /** Carved from the training frame, seeded; 0 uses the training loss for early stopping. */
  validationFraction: number;
  seed: number;
  /** Parameters + optimiser state + one batch of activations must fit; otherwise MlInputError. */
  memoryLimitMb?: number;
  /** Intra-op threads for ONNX Runtime (default 1: fleets scale by worker replicas). */
  threads?: number;
  /** 'cuda' on GPU workers: the same step graph on onnxruntime's CUDA provider, CPU when it is not installed. */
  executionProvider?: 'cpu' | 'cuda';
}

export interface EpochInfo {
  epoch: number;
  epochs: number;
  trainLoss: number;
  valLoss: number;
  valMetric: number;
  samplesPerSec: number;
  /** Time inside the ONNX step graph this epoch (the rest is batch assembly, evaluation, callbacks). */
  stepSeconds?: number;
  /** Time assembling shuffled batches in JS this epoch. */
  prepareSeconds?: number;
}

export interface TrainOptions {
  /** Called after every epoch; the training activity heartbeats here. */
  onEpoch?(info: EpochInfo): void | Promise<void>;
  /** Resume exactly from this checkpoint (bytes from onCheckpoint). */
  checkpoint?: Uint8Array;
  /** Called after each `checkpointEvery` epochs (default 1) and on the final epoch. */
  onCheckpoint?(bytes: Uint8Array, epoch: number): void | Promise<void>;
  checkpointEvery?: number;
  signal?: AbortSignal;
}

export interface NumericPrep {
  name: string;
  median: number;
  mean: number;
  std: number;
}
export interface CategoricalPrep {
  name: string;
  /** Known categories in one-hot order; one extra trailing slot is the unseen bucket. null is stored as ''. */
  categories: string[];
}
/** Fitted preprocessing, in the order the model's input vector is laid out: numeric first, then categorical. */
export interface Preprocessing {
  numeric: NumericPrep[];
  categorical: CategoricalPrep[];
  /** Width of the encoded vector: numeric.length + sum(categories.length + 1). */
  width: number;
}

/** One dense layer; weights are row-major [inputs x outputs]. */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weights: Float32Array;
  bias: Float32Array;
}

/** Kind of output head, derived from task and class count. */
export type Head = 'softmax' | 'sigmoid' | 'identity';

/** Everything needed to predict and to export; serialise with serializeModel(). */
export interface TrainedModel {
  format: 'mlops-model/1';
  spec: TrainSpec;
  head: Head;
  preprocessing: Preprocessing;
  layers: DenseLayer[];
  /** Class labels in probability order (classification only). */
  classes?: string[];
  /** Regression targets are standardised for training; predictions are y * std + mean. */
  targetScale?: { mean: number; std: number };
  epochsRun: number;
  resumedFromEpoch: number;
  /** Epoch whose weights were kept (early stopping restores the best validation epoch). */
  bestEpoch: number;
  history: EpochInfo[];
  parameterCount: number;
}

export interface OnnxPrediction {
  labels?: string[];
  /** Row-major n x classes. */
  probabilities?: Float32Array;
  values?: Float32Array;
  classes?: string[];
}

export interface ClassificationMetrics {
  accuracy: number;
  macroF1: number;
  rocAuc?: number;
  logLoss?: number;
  confusionMatrix: number[][];
}
export interface RegressionMetrics {
  rmse: number;
  mae: number;
  r2: number;
}
