export function pruneMagnitude(_onnx: Uint8Array, _sparsity: number): Uint8Array {
  throw new Error('not implemented yet');
}
