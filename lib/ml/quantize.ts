export function quantizeInt8(_onnx: Uint8Array): Uint8Array {
  throw new Error('not implemented yet');
}
