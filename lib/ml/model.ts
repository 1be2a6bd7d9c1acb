import type { Frame, OnnxPrediction, TrainedModel } from './types';
export function predict(_model: TrainedModel, _frame: Frame): OnnxPrediction {
  throw new Error('not implemented yet');
}
export function serializeModel(_model: TrainedModel): Uint8Array {
  throw new Error('not implemented yet');
}
export function deserializeModel(_bytes: Uint8Array): TrainedModel {
  throw new Error('not implemented yet');
}
