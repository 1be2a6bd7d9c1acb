// Every workflow the control fleet runs (this file is the worker's workflowsPath).
export { pipeline } from './pipeline';
export type { PipelineInput, PipelineOptions, PipelineResult } from './pipeline';
export { approvalSignal, statusQuery } from './messages';
export { commandTraining } from './command-training';
export type { CommandTrainingInput } from './command-training';
export { distributedTraining } from './distributed-training';
export type { DistributedTrainingInput, DistributedTrainingResult } from './distributed-training';
export { hyperparameterSearch, searchTrial } from './hyperparameter-search';
export type { SearchInput, SearchResult, TrialResult } from './hyperparameter-search';
export { batchInference, batchInferenceWindow } from './batch-inference';
export type { BatchInferenceInput, BatchResult } from './batch-inference';
export { batchChunkDoneSignal, batchProgressQuery } from './batch-messages';
export { featureMaterialization } from './feature-materialization';
export { materializationProgressQuery } from './feature-messages';
export type { FeatureMaterializationInput, FeatureMaterializationResult } from './feature-materialization';
