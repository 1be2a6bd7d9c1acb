// Int8 weight quantisation of the dense layers. Each MatMul with a float weight initializer becomes
// one com.microsoft DynamicQuantizeMatMul: weights are stored as int8 with a per-output-column
// scale (symmetric, zero point 0), activations are quantised to uint8 per batch at run time. This
// single fused node was the fastest style in onnxruntime's CPU provider here (see bench/ml/quantize.ts,
// which also measures the standard MatMulInteger and QDQ-free alternatives); it needs no
// calibration data, so it fits a pipeline step that only has the model.
//
// Weights use 7 bits ([-63, 63]) by default: on x86 without VNNI the u8 x s8 kernels add pairs of
// products in 16 bits, which can saturate with full-range weights and silently lose accuracy.
import { decodeModel, encodeModel, int8Tensor, floatTensor, ModelProto, MS_OPSET } from './onnx/proto';
import { denseWeights, setMeta } from './onnx/rewrite';
import { tensorFloats } from './onnx/proto';

export interface QuantizeOptions {
  /** 'fused' (DynamicQuantizeMatMul, default) or 'integer' (DynamicQuantizeLinear + MatMulInteger, plain ONNX). */
  style?: 'fused' | 'integer';
  /** Largest weight magnitude in int8 steps: 63 (default, saturation-safe) or 127. */
  weightRange?: 63 | 127;
}

export function quantizeInt8(onnx: Uint8Array, options: QuantizeOptions = {}): Uint8Array {
  const style = options.style ?? 'fused';
  const range = options.weightRange ?? 63;
  const m = decodeModel(onnx);
  const layers = denseWeights(m);
  const drop = new Set<string>();
  for (const { node, weight } of layers) {
    const [K, N] = weight.dims;
    const w = tensorFloats(weight);
    const scale = new Float32Array(N);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) scale[j] = Math.max(scale[j], Math.abs(w[k * N + j]));
    for (let j = 0; j < N; j++) scale[j] = scale[j] > 0 ? scale[j] / range : 1;
    const q = new Int8Array(K * N);
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < N; j++) q[k * N + j] = Math.max(-range, Math.min(range, Math.round(w[k * N + j] / scale[j])));
    }
    const base = weight.name;
    drop.add(base);
    const qName = `${base}_q`;
    const sName = `${base}_scale`;
    const zName = `${base}_zp`;
    m.graph.initializer.push(
      int8Tensor(qName, [K, N], q),
      floatTensor(sName, [N], scale),
      int8Tensor(zName, [N], new Int8Array(N))
    );
    if (style === 'fused') {
      node.opType = 'DynamicQuantizeMatMul';
      node.domain = 'com.microsoft';
      node.input = [node.input[0], qName, sName, zName];
      // Fold the layer's bias Add into the node's bias input: one pass less over the output.
      const users = m.graph.node.filter((n) => n.input.includes(node.output[0]));
      const add = users.length === 1 && users[0].opType === 'Add' ? users[0] : undefined;
      const bias = add?.input.find((i) => i !== node.output[0]);
      const biasInit = m.graph.initializer.find((t) => t.name === bias);
      if (add && biasInit && biasInit.dims.length === 1 && biasInit.dims[0] === N) {
        node.input.push(bias!);
        node.output = [add.output[0]];
        m.graph.node.splice(m.graph.node.indexOf(add), 1);
      }
    } else {
      // Plain ONNX: y = (int32(Aq - za) @ Wq) * (sa * sw); MatMulInteger needs a per-tensor or per-column zero point.
      const a = node.input[0];
      const out = node.output[0];
      const p = `${base}_mmi`;
      const extra = [
        {
          input: [a],
          output: [`${p}_aq`, `${p}_as`, `${p}_az`],
          opType: 'DynamicQuantizeLinear',
          domain: '',
          name: `${p}_dql`,
        },
        {
          input: [`${p}_aq`, qName, `${p}_az`, zName],
          output: [`${p}_i32`],
          opType: 'MatMulInteger',
          domain: '',
          name: `${p}_mmi`,
        },
        {
          input: [`${p}_i32`],
          output: [`${p}_f`],
          opType: 'Cast',
          domain: '',
          name: `${p}_cast`,
          attribute: [{ name: 'to', type: 2, i: 1 }],
        },
        { input: [`${p}_as`, sName], output: [`${p}_s`], opType: 'Mul', domain: '', name: `${p}_sc` },
        { input: [`${p}_f`, `${p}_s`], output: [out], opType: 'Mul', domain: '', name: `${p}_mul` },
      ];
      const at = m.graph.node.indexOf(node);
      m.graph.node.splice(at, 1, ...extra);
    }
  }
  m.graph.initializer = m.graph.initializer.filter((t) => !drop.has(t.name));
  ensureMsOpset(m);
  setMeta(m, 'mlops.quantization', `int8 weights per column (${style}, range ${range}), dynamic uint8 activations`);
  return encodeModel(m);
}

function ensureMsOpset(m: ModelProto): void {
  if (!m.opsetImport.some((o) => o.domain === 'com.microsoft'))
    m.opsetImport.push({ domain: 'com.microsoft', version: MS_OPSET });
}
