/** @jest-environment ./test/unit/ml/ort-environment.js */
// The analytic backward pass in the ONNX training graph against central finite differences of an
// independent float64 implementation of the same loss (including the L2 penalty on weights).
import { createSession, f32, ort } from '../../../lib/ml/ort';
import { rng } from '../../../lib/workflow-safe/rng';
import {
  adamStepSize,
  Architecture,
  buildGradModel,
  buildStepModel,
  layout,
  weightMask,
} from '../../../lib/ml/training-graph';

function lossF64(
  arch: Architecture,
  theta: Float64Array,
  x: Float32Array,
  y: Float32Array,
  n: number,
  l2: number
): number {
  const { slots } = layout(arch.sizes);
  let h: Float64Array = Float64Array.from(x);
  for (let l = 0; l < slots.length; l++) {
    const s = slots[l];
    const z = new Float64Array(n * s.outputs);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < s.outputs; o++) {
        let acc = theta[s.bOffset + o];
        for (let k = 0; k < s.inputs; k++) acc += h[i * s.inputs + k] * theta[s.wOffset + k * s.outputs + o];
        z[i * s.outputs + o] = l + 1 < slots.length ? Math.max(0, acc) : acc;
      }
    }
    h = z;
  }
  const C = arch.sizes[arch.sizes.length - 1];
  let loss = 0;
  for (let i = 0; i < n; i++) {
    if (arch.head === 'softmax') {
      const row = h.subarray(i * C, i * C + C);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      for (let c = 0; c < C; c++) loss -= y[i * C + c] * (row[c] - lse);
    } else if (arch.head === 'sigmoid') {
      const z = h[i];
      loss += Math.log1p(Math.exp(z)) - y[i] * z;
    } else {
      loss += 0.5 * (h[i] - y[i]) ** 2;
    }
  }
  const mask = weightMask(arch.sizes);
  let penalty = 0;
  for (let p = 0; p < theta.length; p++) penalty += mask[p] * theta[p] * theta[p];
  return loss / n + 0.5 * l2 * penalty;
}

const cases: [string, Architecture][] = [
  ['softmax MLP', { sizes: [5, 7, 6, 3], head: 'softmax' }],
  ['sigmoid MLP', { sizes: [4, 8, 1], head: 'sigmoid' }],
  ['linear regression', { sizes: [6, 1], head: 'identity' }],
  ['softmax regression', { sizes: [4, 3], head: 'softmax' }],
];

describe('training graph gradients', () => {
  it.each(cases)('%s matches finite differences', async (_name, arch) => {
    const l2 = 0.05;
    const n = 9;
    const r = rng(3, 'grad');
    const { parameters: P } = layout(arch.sizes);
    const D = arch.sizes[0];
    const C = arch.sizes[arch.sizes.length - 1];
    const theta = Float32Array.from({ length: P }, () => r() - 0.5);
    const x = Float32Array.from({ length: n * D }, () => 2 * r() - 1);
    const y = new Float32Array(n * C);
    for (let i = 0; i < n; i++) {
      if (arch.head === 'softmax') y[i * C + Math.floor(r() * C)] = 1;
      else if (arch.head === 'sigmoid') y[i] = r() < 0.5 ? 0 : 1;
      else y[i] = 2 * r() - 1;
    }
    const session = await createSession(buildGradModel(arch, l2));
    const out = await session.run({ theta: f32(theta, [P]), X: f32(x, [n, D]), Y: f32(y, [n, C]) });
    const grad = out.grad.data as Float32Array;
    const t64 = Float64Array.from(theta);
    // The graph's loss output has no penalty; compare it to the data part.
    expect((out.loss.data as Float32Array)[0]).toBeCloseTo(lossF64(arch, t64, x, y, n, 0), 5);
    const eps = 1e-5;
    let maxErr = 0;
    for (let p = 0; p < P; p++) {
      const save = t64[p];
      t64[p] = save + eps;
      const up = lossF64(arch, t64, x, y, n, l2);
      t64[p] = save - eps;
      const down = lossF64(arch, t64, x, y, n, l2);
      t64[p] = save;
      const numeric = (up - down) / (2 * eps);
      maxErr = Math.max(maxErr, Math.abs(numeric - grad[p]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(grad[p])));
    }
    expect(maxErr).toBeLessThan(1e-3);
    await session.release();
  });
});

describe('Adam step graph', () => {
  it('matches textbook Adam (Kingma & Ba) over several steps', async () => {
    const arch: Architecture = { sizes: [4, 6, 3], head: 'softmax' };
    const l2 = 0.01;
    const lr = 0.05;
    const { parameters: P } = layout(arch.sizes);
    const r = rng(8, 'adam');
    const K = 4;
    const B = 5;
    const x = Float32Array.from({ length: K * B * 4 }, () => 2 * r() - 1);
    const y = new Float32Array(K * B * 3);
    for (let i = 0; i < K * B; i++) y[i * 3 + Math.floor(r() * 3)] = 1;
    const theta0 = Float32Array.from({ length: P }, () => r() - 0.5);

    const step = await createSession(buildStepModel(arch, l2));
    const lrs = Float32Array.from({ length: K }, (_, k) => adamStepSize(lr, k + 1));
    const out = await step.run({
      X: f32(x, [K * B, 4]),
      Y: f32(y, [K * B, 3]),
      idx: new ort.Tensor(
        'int32',
        Int32Array.from({ length: K * B }, (_, i) => i),
        [K, B]
      ),
      theta: f32(theta0, [P]),
      m: f32(new Float32Array(P), [P]),
      v: f32(new Float32Array(P), [P]),
      lrs: f32(lrs, [K]),
    });

    const grad = await createSession(buildGradModel(arch, l2));
    const theta = Float64Array.from(theta0);
    const m = new Float64Array(P);
    const v = new Float64Array(P);
    for (let t = 1; t <= K; t++) {
      const xb = x.subarray((t - 1) * B * 4, t * B * 4);
      const yb = y.subarray((t - 1) * B * 3, t * B * 3);
      const g = (await grad.run({ theta: f32(Float32Array.from(theta), [P]), X: f32(xb, [B, 4]), Y: f32(yb, [B, 3]) }))
        .grad.data as Float32Array;
      for (let p = 0; p < P; p++) {
        m[p] = 0.9 * m[p] + 0.1 * g[p];
        v[p] = 0.999 * v[p] + 0.001 * g[p] * g[p];
        // The efficient form from section 2 of the paper (as scikit-learn implements it).
        const lrT = (lr * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
        theta[p] -= (lrT * m[p]) / (Math.sqrt(v[p]) + 1e-8);
      }
    }
    const got = out.theta_out.data as Float32Array;
    for (let p = 0; p < P; p++) expect(Math.abs(got[p] - theta[p])).toBeLessThan(1e-5);
    await step.release();
    await grad.release();
  });
});
