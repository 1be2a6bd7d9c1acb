// Target 2: fraction of the machine's FP32 FLOP peak reached while training a >= 100k-parameter
// MLP (256-512-10, 136,714 parameters) with Adam, one thread. FLOPs counted as the issue asks:
// 2 per weight per sample forward, 2 for weight gradients, 2 for input gradients of every layer
// but the first. The peak is measured right before each run (the machine is shared, so both are
// taken under the same conditions). Run: npx tsx bench/ml/mlp-flops.ts
import { train } from '../../lib/ml';
import { flopsPerSample } from '../../lib/ml/training-graph';
import { studentSpec, table, teacherData } from './common';
import { measurePeakGflops } from './flops-peak';

void (async () => {
  const sizes = [256, 512, 10];
  const flops = flopsPerSample(sizes);
  const { frame, features } = teacherData(40_960);
  // Warm-up (clock ramp, page faults), then the peak is measured between runs; the largest value
  // seen is the machine's peak, and each configuration's best epoch over two runs is its speed.
  const peaks = [await measurePeakGflops(1, 512, 3)];
  const rows = [];
  for (const batchSize of [256, 512, 1024]) {
    let stepSps = 0;
    let loopSps = 0;
    let params = 0;
    for (let run = 0; run < 2; run++) {
      peaks.push(await measurePeakGflops(1, run ? 512 : 1024, 1.5));
      const model = await train(
        frame,
        studentSpec(features, [512], { epochs: 4, batchSize, l2: 1e-5, patience: 0, validationFraction: 0 })
      );
      params = model.parameterCount;
      stepSps = Math.max(stepSps, ...model.history.map((h) => frame.length / h.stepSeconds!));
      loopSps = Math.max(loopSps, ...model.history.map((h) => h.samplesPerSec));
    }
    rows.push({ batch: batchSize, params, step_samples_s: stepSps, loop_samples_s: loopSps });
  }
  const peak = Math.max(...peaks);
  const results = rows.map((r) => ({
    ...r,
    step_gflops: (r.step_samples_s * flops) / 1e9,
    step_fraction_of_peak: (r.step_samples_s * flops) / 1e9 / peak,
    loop_fraction_of_peak: (r.loop_samples_s * flops) / 1e9 / peak,
  }));
  console.log(
    JSON.stringify(
      { benchmark: 'mlp-flops', sizes, flopsPerSample: flops, threads: 1, peakGflops: peak, peaks, results },
      null,
      1
    )
  );
  console.log(`measured FP32 peak (1 thread, onnxruntime SGEMM): ${peak.toFixed(1)} GFLOPS`);
  console.log(table(results));
})();
