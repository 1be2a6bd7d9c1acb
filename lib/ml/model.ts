// The trained model as plain data, a float64 reference forward pass (used for the trainer's own
// predictions and as the ground truth the ONNX export is checked against), and a compact binary
// serialisation: a JSON header plus the weights as raw float32.
import { transform } from './preprocessing';
import type { DenseLayer, Frame, OnnxPrediction, TrainedModel } from './types';

/** Raw outputs of the last layer (logits, or the standardised value for regression), float64 [n x C]. */
export function forwardLogits(model: TrainedModel, x: Float32Array, n: number): Float64Array {
  let h: Float64Array | Float32Array = x;
  let width = model.preprocessing.width;
  for (let l = 0; l < model.layers.length; l++) {
    const { inputs, outputs, weights, bias } = model.layers[l];
    if (inputs !== width) throw new Error(`layer ${l} expects ${inputs} inputs, got ${width}`);
    const z = new Float64Array(n * outputs);
    for (let i = 0; i < n; i++) {
      const row = i * outputs;
      for (let o = 0; o < outputs; o++) z[row + o] = bias[o];
      for (let k = 0; k < inputs; k++) {
        const hv = h[i * inputs + k];
        if (hv === 0) continue;
        const wRow = k * outputs;
        for (let o = 0; o < outputs; o++) z[row + o] += hv * weights[wRow + o];
      }
      if (l + 1 < model.layers.length) for (let o = 0; o < outputs; o++) if (z[row + o] < 0) z[row + o] = 0;
    }
    h = z;
    width = outputs;
  }
  return h as Float64Array;
}

/** Turns logits into the same outputs the exported ONNX model produces. */
export function headOutputs(model: TrainedModel, logits: Float64Array, n: number): OnnxPrediction {
  if (model.head === 'identity') {
    const { mean, std } = model.targetScale ?? { mean: 0, std: 1 };
    return { values: Float32Array.from(logits, (z) => z * std + mean) };
  }
  const classes = model.classes!;
  const k = classes.length;
  const probabilities = new Float32Array(n * k);
  const labels: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    if (model.head === 'sigmoid') {
      const p = 1 / (1 + Math.exp(-logits[i]));
      probabilities[i * 2] = 1 - p;
      probabilities[i * 2 + 1] = p;
    } else {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, logits[i * k + c]);
      let s = 0;
      for (let c = 0; c < k; c++) s += Math.exp(logits[i * k + c] - max);
      for (let c = 0; c < k; c++) probabilities[i * k + c] = Math.exp(logits[i * k + c] - max) / s;
    }
    // First maximum wins, matching ONNX ArgMax.
    let best = 0;
    for (let c = 1; c < k; c++) if (probabilities[i * k + c] > probabilities[i * k + best]) best = c;
    labels[i] = classes[best];
  }
  return { labels, probabilities, classes };
}

/** The trainer's own predictions on raw rows (float64 reference implementation). */
export function predict(model: TrainedModel, frame: Frame): OnnxPrediction {
  const x = transform(frame, model.preprocessing);
  return headOutputs(model, forwardLogits(model, x, frame.length), frame.length);
}

export function layersFromTheta(sizes: number[], theta: Float32Array): DenseLayer[] {
  const layers: DenseLayer[] = [];
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l];
    const outputs = sizes[l + 1];
    const weights = theta.slice(off, off + inputs * outputs);
    off += inputs * outputs;
    const bias = theta.slice(off, off + outputs);
    off += outputs;
    layers.push({ inputs, outputs, weights, bias });
  }
  return layers;
}

const MAGIC = 0x4d4c4d31; // 'MLM1'

export function serializeModel(model: TrainedModel): Uint8Array {
  const { layers, ...rest } = model;
  const header = new TextEncoder().encode(
    JSON.stringify({ ...rest, layers: layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs })) }, (_k, v) =>
      typeof v === 'number' && !Number.isFinite(v) ? String(v) : v
    )
  );
  const floats = layers.reduce((s, l) => s + l.weights.length + l.bias.length, 0);
  const headerPadded = Math.ceil(header.length / 4) * 4;
  const out = new Uint8Array(8 + headerPadded + floats * 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, header.length, true);
  out.set(header, 8);
  const f = new Float32Array(out.buffer, 8 + headerPadded, floats);
  let off = 0;
  for (const l of layers) {
    f.set(l.weights, off);
    off += l.weights.length;
    f.set(l.bias, off);
    off += l.bias.length;
  }
  return out;
}

export function deserializeModel(bytes: Uint8Array): TrainedModel {
  const copy = new Uint8Array(bytes); // aligned
  const dv = new DataView(copy.buffer);
  if (dv.getUint32(0, true) !== MAGIC) throw new Error('not a serialised mlops model (bad magic)');
  const len = dv.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(copy.subarray(8, 8 + len)), (_k, v) =>
    v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v
  );
  let off = 8 + Math.ceil(len / 4) * 4;
  const layers: DenseLayer[] = header.layers.map((s: { inputs: number; outputs: number }) => {
    const weights = new Float32Array(copy.buffer, off, s.inputs * s.outputs).slice();
    off += weights.byteLength;
    const bias = new Float32Array(copy.buffer, off, s.outputs).slice();
    off += bias.byteLength;
    return { inputs: s.inputs, outputs: s.outputs, weights, bias };
  });
  return { ...header, layers };
}
