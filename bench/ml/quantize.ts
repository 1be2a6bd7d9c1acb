// Target 3 and the optimisation report: int8 (two styles) and magnitude-pruned variants of the
// 256-512-10 MLP against the float export: size, latency at batch 1 and 256, throughput at 256,
// hold-out accuracy. One intra-op thread. Run: npx tsx bench/ml/quantize.ts
import { classificationMetrics, exportOnnx, predictOnnx, pruneMagnitude, quantizeInt8, train } from '../../lib/ml';
import { latencyMs } from '../../lib/ml/report';
import { gzipSync } from 'zlib';
import { slice, split } from '../../test/unit/ml/data';
import { studentSpec, table, teacherData } from './common';

void (async () => {
  const { frame, features } = teacherData(50_000);
  const s = split(frame.length, 0.2, 7);
  const trainF = slice(frame, s.train);
  const testF = slice(frame, s.test);
  const model = await train(
    trainF,
    studentSpec(features, [512], { epochs: 20, batchSize: 256, l2: 1e-5, patience: 3, validationFraction: 0.1 })
  );
  // Packed numeric input: 256 separate [N,1] inputs would cost more in the binding than the MLP itself.
  const float = exportOnnx(model, {}, { packNumeric: true });
  const variants: [string, Uint8Array][] = [
    ['float32', float],
    ['float32, one input per column', exportOnnx(model, {})],
    ['int8 fused (DynamicQuantizeMatMul, 7-bit)', quantizeInt8(float)],
    ['int8 fused, 8-bit weights', quantizeInt8(float, { weightRange: 127 })],
    ['int8 MatMulInteger (plain ONNX)', quantizeInt8(float, { style: 'integer' })],
    ['pruned 50%', pruneMagnitude(float, 0.5)],
    ['pruned 80%', pruneMagnitude(float, 0.8)],
    ['pruned 50% + int8', quantizeInt8(pruneMagnitude(float, 0.5))],
  ];
  const yTest = testF.columns.y as string[];
  // Latency: rounds that interleave the variants, keeping each one's minimum. The machine is
  // shared; interleaving exposes every variant to the same background load, and the minimum is
  // the undisturbed time.
  const best = variants.map(() => ({ b1: Infinity, b256: Infinity }));
  for (let round = 0; round < 15; round++) {
    for (let v = 0; v < variants.length; v++) {
      best[v].b1 = Math.min(best[v].b1, await latencyMs(variants[v][1], testF, 1, 40, 'min'));
      best[v].b256 = Math.min(best[v].b256, await latencyMs(variants[v][1], testF, 256, 20, 'min'));
    }
  }
  const rows = [];
  let floatAcc = 0;
  for (let v = 0; v < variants.length; v++) {
    const [name, onnx] = variants[v];
    const pred = await predictOnnx(onnx, testF);
    const acc = classificationMetrics(yTest, pred.labels!, undefined, pred.classes!).accuracy;
    if (v === 0) floatAcc = acc;
    rows.push({
      model: name,
      bytes: onnx.length,
      gzip_bytes: gzipSync(onnx).length,
      latency_ms_b1: best[v].b1,
      latency_ms_b256: best[v].b256,
      samples_s_b256: 256 / (best[v].b256 / 1000),
      speedup_b256: best[0].b256 / best[v].b256,
      accuracy: acc,
      accuracy_drop_points: 100 * (floatAcc - acc),
    });
  }
  console.log(
    JSON.stringify(
      { benchmark: 'quantize', mlp: [256, 512, 10], params: model.parameterCount, threads: 1, results: rows },
      null,
      1
    )
  );
  console.log(table(rows));
})();
