// Measures the machine's FP32 FLOP peak as onnxruntime's own SGEMM reaches it: a large square
// MatMul, one thread (the trainer's default), best of several runs. Prints JSON.
import { GraphBuilder, model } from '../../lib/ml/onnx/builder';
import { DataType, encodeModel, valueInfo } from '../../lib/ml/onnx/proto';
import { createSession, f32 } from '../../lib/ml/ort';

export async function measurePeakGflops(threads = 1, n = 1024, seconds = 2): Promise<number> {
  const g = new GraphBuilder();
  g.op('MatMul', ['A', 'B'], {}, ['C']);
  const bytes = encodeModel(
    model(
      g.graph(
        'peak',
        [valueInfo('A', DataType.FLOAT, [n, n]), valueInfo('B', DataType.FLOAT, [n, n])],
        [valueInfo('C', DataType.FLOAT, [n, n])]
      )
    )
  );
  const session = await createSession(bytes, { threads });
  const a = f32(
    Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5),
    [n, n]
  );
  const b = f32(
    Float32Array.from({ length: n * n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5),
    [n, n]
  );
  await session.run({ A: a, B: b });
  let best = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await session.run({ A: a, B: b });
    best = Math.max(best, (2 * n ** 3) / ((performance.now() - t) / 1000) / 1e9);
  }
  await session.release();
  return best;
}

if (require.main === module) {
  void (async () => {
    const threads = Number(process.env.THREADS ?? 1);
    const results = [];
    for (const n of [512, 1024, 2048]) results.push({ n, threads, gflops: await measurePeakGflops(threads, n) });
    console.log(JSON.stringify({ peakGflops: Math.max(...results.map((r) => r.gflops)), results }, null, 1));
  })();
}
