// Target 2: fraction of the machine's FP32 FLOP peak reached while training a >= 100k-parameter
// MLP (256-512-10, 136,714 parameters) with Adam, one thread. FLOPs counted as the issue asks:
// 2 per weight per sample forward, 2 for weight gradients, 2 for input gradients of every layer
// but the first. The peak is measured right before each run (the machine is shared, so both are
// taken under the same conditions). Run: npx tsx bench/ml/mlp-flops.ts
import { train } from '../../lib/ml';
import { flopsPerSample } from '../../lib/ml/training-graph';
import { table, teacherData } from './common';
import { measurePeakGflops } from './flops-peak';

(async () => {
  const sizes = [256, 512, 10];
  const flops = flopsPerSample(sizes);
  const { frame, features } = teacherData(40_960);
  const rows = [];
  for (const batchSize of [256, 512, 1024]) {
    const peak = await measurePeakGflops(1, 1024, 2);
    const model = await train(frame, {
      task: 'classification',
      target: 'y',
      features,
      model: { kind: 'mlp', hidden: [512] },
      epochs: 4,
      batchSize,
      learningRate: 1e-3,
      l2: 1e-5,
      patience: 0,
      validationFraction: 0,
      seed: 1,
      threads: 1,
    });
    // Best epoch: the machine is shared with other work, the best epoch is the least disturbed one.
    const stepSps = Math.max(...model.history.map((h) => frame.length / h.stepSeconds!));
    const loopSps = Math.max(...model.history.map((h) => h.samplesPerSec));
    rows.push({
      batch: batchSize,
      params: model.parameterCount,
      peak_gflops: peak,
      step_samples_s: stepSps,
      step_gflops: (stepSps * flops) / 1e9,
      step_fraction_of_peak: (stepSps * flops) / 1e9 / peak,
      loop_samples_s: loopSps,
      loop_fraction_of_peak: (loopSps * flops) / 1e9 / peak,
    });
  }
  console.log(
    JSON.stringify({ benchmark: 'mlp-flops', sizes, flopsPerSample: flops, threads: 1, results: rows }, null, 1)
  );
  console.log(table(rows));
})();
