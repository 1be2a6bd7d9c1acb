// Magnitude pruning: in each dense layer, the given fraction of weights with the smallest |w| is
// set to zero (biases are kept). Dense storage keeps the model runnable everywhere; the gain shows
// in compressed size, and the pruned model can be quantised afterwards.
import { decodeModel, encodeModel, floatTensor, tensorFloats } from './onnx/proto';
import { denseWeights, setMeta } from './onnx/rewrite';

export function pruneMagnitude(onnx: Uint8Array, sparsity: number): Uint8Array {
  if (!(sparsity >= 0 && sparsity < 1)) throw new RangeError(`sparsity must be in [0, 1), got ${sparsity}`);
  const m = decodeModel(onnx);
  for (const { weight } of denseWeights(m)) {
    const w = tensorFloats(weight);
    const k = Math.floor(sparsity * w.length);
    if (k === 0) continue;
    // Exactly k zeros: rank by magnitude, ties broken by index so the result is deterministic.
    const order = Uint32Array.from({ length: w.length }, (_, i) => i).sort(
      (a, b) => Math.abs(w[a]) - Math.abs(w[b]) || a - b
    );
    for (let i = 0; i < k; i++) w[order[i]] = 0;
    const replacement = floatTensor(weight.name, weight.dims, w);
    weight.rawData = replacement.rawData;
    weight.floatData = undefined;
  }
  setMeta(m, 'mlops.pruning', `magnitude, sparsity ${sparsity} per dense layer`);
  return encodeModel(m);
}
