import type { Frame, TrainOptions, TrainSpec, TrainedModel } from './types';
export async function train(_frame: Frame, _spec: TrainSpec, _opts: TrainOptions = {}): Promise<TrainedModel> {
  throw new Error('train: not implemented yet');
}
