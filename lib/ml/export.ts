import type { TrainedModel } from './types';
export function exportOnnx(_model: TrainedModel, _metadata: Record<string, string>): Uint8Array {
  throw new Error('not implemented yet');
}
