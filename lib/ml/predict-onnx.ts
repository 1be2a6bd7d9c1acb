import type { Frame, OnnxPrediction } from './types';
export async function predictOnnx(_onnx: Uint8Array, _frame: Frame): Promise<OnnxPrediction> {
  throw new Error('not implemented yet');
}
export function readOnnxMetadata(_onnx: Uint8Array): Record<string, string> {
  throw new Error('not implemented yet');
}
