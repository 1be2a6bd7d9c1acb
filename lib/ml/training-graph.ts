// The training step as an ONNX graph: forward pass, analytic gradients and the Adam update, run
// by onnxruntime-node. All parameters live in ONE flat float32 vector (theta) with matching
// optimiser moments (m, v): the element-wise Adam update is then 11 kernels over one buffer instead
// of 11 per tensor, and theta/m/v travel between steps as three ORT tensors that JS never touches.
// A step model runs K mini-batches per session.run through an ONNX Scan, so the per-call overhead
// of the JS binding is paid once per K batches, not once per batch.
import { GraphBuilder, model } from './onnx/builder';
import { DataType, encodeModel, GraphProto, valueInfo } from './onnx/proto';
import type { Head } from './types';

export interface Architecture {
  /** Layer widths: [inputs, hidden..., outputs]. */
  sizes: number[];
  head: Head;
}

export interface LayerSlot {
  inputs: number;
  outputs: number;
  wOffset: number;
  bOffset: number;
}

export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** Where each layer's weights [in x out, row-major] and bias sit inside theta. */
export function layout(sizes: number[]): { slots: LayerSlot[]; parameters: number } {
  const slots: LayerSlot[] = [];
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l];
    const outputs = sizes[l + 1];
    slots.push({ inputs, outputs, wOffset: off, bOffset: off + inputs * outputs });
    off += inputs * outputs + outputs;
  }
  return { slots, parameters: off };
}

/** Multiply-adds per sample for forward + weight gradients + input gradients (all but the first layer). */
export function flopsPerSample(sizes: number[]): number {
  const { slots } = layout(sizes);
  return slots.reduce((s, l, i) => s + l.inputs * l.outputs * (i === 0 ? 4 : 6), 0);
}

/** 1 for weights, 0 for biases: L2 applies to weights only (as in scikit-learn). */
export function weightMask(sizes: number[]): Float32Array {
  const { slots, parameters } = layout(sizes);
  const mask = new Float32Array(parameters);
  for (const s of slots) mask.fill(1, s.wOffset, s.wOffset + s.inputs * s.outputs);
  return mask;
}

interface Emitted {
  loss: string;
  logits: string;
  grad?: string;
}

/** Emits forward (+ backward) for one batch X [B, D], Y [B, C] with parameters theta [P]. */
function emitBatch(
  g: GraphBuilder,
  arch: Architecture,
  x: string,
  y: string,
  theta: string,
  l2: number,
  withGrad: boolean
): Emitted {
  const { slots } = layout(arch.sizes);
  const ws: string[] = [];
  const bs: string[] = [];
  for (const s of slots) {
    const wLen = s.inputs * s.outputs;
    const wFlat = g.o('Slice', [theta, g.i64([s.wOffset]), g.i64([s.wOffset + wLen]), g.i64([0])]);
    ws.push(g.o('Reshape', [wFlat, g.i64([s.inputs, s.outputs])]));
    bs.push(g.o('Slice', [theta, g.i64([s.bOffset]), g.i64([s.bOffset + s.outputs]), g.i64([0])]));
  }
  // Forward: h[0] = X, z[l] = h[l] W[l] + b[l], h[l+1] = relu(z[l]).
  const hs: string[] = [x];
  let z = '';
  for (let l = 0; l < slots.length; l++) {
    z = g.o('Gemm', [hs[l], ws[l], bs[l]]);
    if (l + 1 < slots.length) hs.push(g.o('Relu', [z]));
  }
  const batch = g.o('Gather', [g.o('Shape', [x]), g.i64([0], [])]);
  const invB = g.o('Reciprocal', [g.o('Cast', [batch], { to: DataType.FLOAT })]);
  // Mean loss per head; dz is its gradient wrt the logits (already divided by B).
  let loss: string;
  let dz: string;
  if (arch.head === 'softmax') {
    const logp = g.o('LogSoftmax', [z], { axis: 1 });
    loss = g.o('Neg', [g.o('Mul', [g.o('ReduceSum', [g.o('Mul', [y, logp])], { keepdims: 0 }), invB])]);
    dz = withGrad ? g.o('Mul', [g.o('Sub', [g.o('Exp', [logp]), y]), invB]) : '';
  } else if (arch.head === 'sigmoid') {
    // log(1 + e^z) - y z is the numerically stable binary cross-entropy on logits.
    const per = g.o('Sub', [g.o('Softplus', [z]), g.o('Mul', [y, z])]);
    loss = g.o('Mul', [g.o('ReduceSum', [per], { keepdims: 0 }), invB]);
    dz = withGrad ? g.o('Mul', [g.o('Sub', [g.o('Sigmoid', [z]), y]), invB]) : '';
  } else {
    const d = g.o('Sub', [z, y]);
    loss = g.o('Mul', [g.o('ReduceSum', [g.o('Mul', [d, d])], { keepdims: 0 }), g.o('Mul', [invB, g.f(0.5)])]);
    dz = withGrad ? g.o('Mul', [d, invB]) : '';
  }
  if (!withGrad) return { loss, logits: z };
  const pieces: string[] = new Array(slots.length * 2);
  for (let l = slots.length - 1; l >= 0; l--) {
    // The L2 term rides in the weight-gradient Gemm (C = W, beta = l2): no extra passes over theta.
    const dW =
      l2 > 0
        ? g.o('Gemm', [hs[l], dz, ws[l]], { transA: 1, beta: { float: l2 } })
        : g.o('Gemm', [hs[l], dz], { transA: 1 });
    pieces[2 * l] = g.o('Reshape', [dW, g.i64([-1])]);
    pieces[2 * l + 1] = g.o('ReduceSum', [dz, g.i64([0])], { keepdims: 0 });
    if (l > 0) {
      const dh = g.o('Gemm', [dz, ws[l]], { transB: 1 });
      // relu'(z) is 1 where h > 0. Where(h > 0) is ~2x faster than Mul(dh, Sign(h)) in ORT's CPU kernels.
      dz = g.o('Where', [g.o('Greater', [hs[l], g.f(0)]), dh, g.f(0)]);
    }
  }
  const grad = g.o('Concat', pieces, { axis: 0 });
  return { loss, logits: z, grad };
}

/**
 * Adam in 10 element-wise kernels instead of 12: the moments are kept pre-divided by their
 * (1 - beta) weights, u = m / (1 - beta1) and w = v / (1 - beta2), which turns both moment updates
 * into one multiply-add, and the constants move into the per-step scalar lr (see adamStepSize) and
 * into epsilon. The update is algebraically the textbook one (Kingma & Ba, with the bias correction
 * folded into the step size, as scikit-learn does). Checkpoints store u and w.
 */
function emitAdam(g: GraphBuilder, theta: string, u: string, w: string, grad: string, lr: string, out: string[]): void {
  const { beta1, beta2, epsilon } = ADAM;
  g.op('Add', [g.o('Mul', [u, g.f(beta1)]), grad], {}, [out[1]]);
  g.op('Add', [g.o('Mul', [w, g.f(beta2)]), g.o('Mul', [grad, grad])], {}, [out[2]]);
  const denom = g.o('Add', [g.o('Sqrt', [out[2]]), g.f(epsilon / Math.sqrt(1 - beta2))]);
  const update = g.o('Mul', [g.o('Div', [out[1], denom]), lr]);
  g.op('Sub', [theta, update], {}, [out[0]]);
}

/** The scalar the step graph multiplies by at Adam step t (1-based): bias correction and moment scaling folded in. */
export function adamStepSize(learningRate: number, t: number): number {
  const { beta1, beta2 } = ADAM;
  return ((learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t)) * ((1 - beta1) / Math.sqrt(1 - beta2));
}

function outputsOf(arch: Architecture): number {
  return arch.sizes[arch.sizes.length - 1];
}

/**
 * Step model. Inputs: the whole encoded training set X [N, D] and Y [N, C] (fed once per call
 * without a copy: the binding wraps the JS buffers), idx [K, B] int32 row numbers of K batches,
 * theta/m/v [P], lrs [K] (per-step scalar from adamStepSize). Outputs theta_out/m_out/v_out and
 * losses [K] (each batch's mean loss before its update). The Scan hands the body one row of idx
 * at a time and the body gathers its batch from X, so shuffling costs JS nothing but the
 * permutation, and a batch is copied once, into cache, right before it is used.
 */
export function buildStepModel(arch: Architecture, l2: number): Uint8Array {
  const { parameters: P } = layout(arch.sizes);
  const D = arch.sizes[0];
  const C = outputsOf(arch);
  const body = new GraphBuilder('b_');
  const xb = body.o('Gather', ['X', 'rows'], { axis: 0 });
  const yb = body.o('Gather', ['Y', 'rows'], { axis: 0 });
  const e = emitBatch(body, arch, xb, yb, 'theta_in', l2, true);
  emitAdam(body, 'theta_in', 'm_in', 'v_in', e.grad!, 'lr', ['theta_b', 'm_b', 'v_b']);
  body.op('Identity', [e.loss], {}, ['loss_b']);
  const bodyGraph: GraphProto = body.graph(
    'step_body',
    [
      valueInfo('theta_in', DataType.FLOAT, [P]),
      valueInfo('m_in', DataType.FLOAT, [P]),
      valueInfo('v_in', DataType.FLOAT, [P]),
      valueInfo('rows', DataType.INT32, ['B']),
      valueInfo('lr', DataType.FLOAT, []),
    ],
    [
      valueInfo('theta_b', DataType.FLOAT, [P]),
      valueInfo('m_b', DataType.FLOAT, [P]),
      valueInfo('v_b', DataType.FLOAT, [P]),
      valueInfo('loss_b', DataType.FLOAT, []),
    ]
  );
  const g = new GraphBuilder();
  g.op('Scan', ['theta', 'm', 'v', 'idx', 'lrs'], { body: bodyGraph, num_scan_inputs: 2 }, [
    'theta_out',
    'm_out',
    'v_out',
    'losses',
  ]);
  const graph = g.graph(
    'train_step',
    [
      valueInfo('X', DataType.FLOAT, ['N', D]),
      valueInfo('Y', DataType.FLOAT, ['N', C]),
      valueInfo('idx', DataType.INT32, ['K', 'B']),
      valueInfo('theta', DataType.FLOAT, [P]),
      valueInfo('m', DataType.FLOAT, [P]),
      valueInfo('v', DataType.FLOAT, [P]),
      valueInfo('lrs', DataType.FLOAT, ['K']),
    ],
    [
      valueInfo('theta_out', DataType.FLOAT, [P]),
      valueInfo('m_out', DataType.FLOAT, [P]),
      valueInfo('v_out', DataType.FLOAT, [P]),
      valueInfo('losses', DataType.FLOAT, ['K']),
    ]
  );
  return encodeModel(model(graph));
}

/** Eval model: theta, X [N, D], Y [N, C] -> loss (mean, no penalty), logits [N, C]. */
export function buildEvalModel(arch: Architecture): Uint8Array {
  return buildSimple(arch, 0, false);
}

/** Gradient model for checks: theta, X, Y -> loss (mean, no penalty) and grad [P] (with the L2 term). */
export function buildGradModel(arch: Architecture, l2: number): Uint8Array {
  return buildSimple(arch, l2, true);
}

function buildSimple(arch: Architecture, l2: number, withGrad: boolean): Uint8Array {
  const { parameters: P } = layout(arch.sizes);
  const D = arch.sizes[0];
  const C = outputsOf(arch);
  const g = new GraphBuilder();
  const e = emitBatch(g, arch, 'X', 'Y', 'theta', l2, withGrad);
  g.op('Identity', [e.loss], {}, ['loss']);
  g.op('Identity', [e.logits], {}, ['logits']);
  const outputs = [valueInfo('loss', DataType.FLOAT, []), valueInfo('logits', DataType.FLOAT, ['N', C])];
  if (withGrad) {
    g.op('Identity', [e.grad!], {}, ['grad']);
    outputs.push(valueInfo('grad', DataType.FLOAT, [P]));
  }
  const graph = g.graph(
    withGrad ? 'grad' : 'eval',
    [
      valueInfo('theta', DataType.FLOAT, [P]),
      valueInfo('X', DataType.FLOAT, ['N', D]),
      valueInfo('Y', DataType.FLOAT, ['N', C]),
    ],
    outputs
  );
  return encodeModel(model(graph));
}
