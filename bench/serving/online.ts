// Online serving benchmark (issue 13): requests/s and p50/p99 of one-row Open Inference Protocol
// requests at concurrency 1, 8 and 64, for penguins and a 64-feature 10-class MLP (float and
// int8), against the floor: onnxruntime-node session.run in-process on the same rows. The server
// runs as its own process (serving/main.ts) on an embedded MongoDB-wire server, with dynamic
// batching on (the default) and off, both running at once; one load generator (bench/api/load.ts)
// sends every request, in rounds that alternate the floor and the two servers.
// `http_rtt` is GET /v2/health/live at concurrency 1: the loopback HTTP round trip.
//
//   npx tsx bench/serving/online.ts [--duration 3] [--workers 1]
//
// Prints a table and writes bench/results/serving-online.json.
import { exportOnnx, quantizeInt8, train, type FeatureSpec, type Frame } from '../../lib/ml';
import { PIPELINE_EXPORT } from '../../lib/ml/export';
import { createSession, ort } from '../../lib/ml/ort';
import { penguins, penguinsFeatures } from '../../test/unit/ml/data';
import { percentile, runLoad, type LoadResult } from '../api/load';
import { arg } from '../stack';
import { studentSpec, teacherData } from '../ml/common';
import {
  combine,
  notOk,
  onEmbeddedStore,
  penguinsOnnx,
  predictorToken,
  registerOnnx,
  report,
  withServer,
} from './common';

const CONCURRENCY = [1, 8, 64];
const durationMs = arg('duration', 3) * 1000;
const workers = arg('workers', 1);
/** Rounds each measurement is split into (see the main loop). */
const ROUNDS = 4;

interface Bench {
  name: string;
  onnx: Uint8Array;
  features: FeatureSpec[];
  frame: Frame;
}

async function models(): Promise<Bench[]> {
  const p = penguins();
  const { frame, features } = teacherData(5_000, 64, 10, 3);
  const mlp = await train(
    frame,
    studentSpec(features, [256], { epochs: 3, batchSize: 256, l2: 0, patience: 0, validationFraction: 0 })
  );
  const mlpFloat = exportOnnx(mlp, {}, PIPELINE_EXPORT);
  return [
    { name: 'penguins', onnx: await penguinsOnnx(1), features: penguinsFeatures, frame: p },
    { name: 'mlp64', onnx: mlpFloat, features, frame },
    { name: 'mlp64-int8', onnx: quantizeInt8(mlpFloat), features, frame },
  ];
}

/** One-row v2 request bodies, cycling through the first 256 rows. */
function bodies(b: Bench): string[] {
  return Array.from({ length: 256 }, (_, i) =>
    JSON.stringify({
      inputs: b.features.map((f) => {
        const v = b.frame.columns[f.name][i];
        return {
          name: f.name,
          shape: [1, 1],
          datatype: f.type === 'numeric' ? 'FP32' : 'BYTES',
          data: [typeof v === 'number' && Number.isNaN(v) ? null : v],
        };
      }),
    })
  );
}

/** The floor: `concurrency` loops of session.run on prebuilt one-row tensors, in this process. */
async function floor(b: Bench, concurrency: number, ms: number): Promise<LoadResult> {
  const session = await createSession(b.onnx);
  const numeric = b.features.filter((f) => f.type === 'numeric');
  const categorical = b.features.filter((f) => f.type === 'categorical');
  const feeds = Array.from({ length: 256 }, (_, i) => {
    const f: Record<string, ort.Tensor> = {
      numeric: new ort.Tensor(
        'float32',
        Float32Array.from(numeric, (x) => (b.frame.columns[x.name] as Float64Array)[i]),
        [1, numeric.length]
      ),
    };
    for (const c of categorical)
      f[c.name] = new ort.Tensor('string', [String(b.frame.columns[c.name][i] ?? '')], [1, 1]);
    return f;
  });
  const latencies: number[] = [];
  let n = 0;
  const started = Date.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds[n++ % 256]);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    })
  );
  await session.release();
  latencies.sort((a, c) => a - c);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    name: `${b.name} floor`,
    requests: latencies.length,
    errors: 0,
    statuses: {},
    rps: round(latencies.length / ((Date.now() - started) / 1000)),
    p50: round(percentile(latencies, 50)),
    p90: round(percentile(latencies, 90)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies[latencies.length - 1]),
    mean: round(latencies.reduce((a, c) => a + c, 0) / latencies.length),
  };
}

onEmbeddedStore('bench_serving', async ({ cfg, store }, log) => {
  log('training penguins and the 64-feature MLP');
  const benches = await models();
  for (const b of benches) await registerOnnx(store, b.name, b.onnx, b.features, b.frame.length);
  const token = await predictorToken(store);
  const results: (LoadResult & { model: string; variant: string; concurrency: number })[] = [];
  const add = (model: string, variant: string, concurrency: number, r: LoadResult) => {
    results.push({ ...r, model, variant, concurrency });
    log(`${model} ${variant} c=${concurrency}: ${r.rps} req/s p50 ${r.p50} ms p99 ${r.p99} ms (errors ${r.errors})`);
  };
  // Both servers run at once and every measurement is split into rounds that alternate floor,
  // batching on and batching off, so that background load on a shared machine hits all alike.
  const workerEnv = { MLOPS_INFERENCE_WORKERS: String(workers) };
  await withServer(cfg, { ...workerEnv, MLOPS_INFERENCE_BATCHING: '1' }, (on) =>
    withServer(cfg, { ...workerEnv, MLOPS_INFERENCE_BATCHING: '0' }, async (off) => {
      add(
        '-',
        'http_rtt (GET /v2/health/live)',
        1,
        await runLoad({ name: 'rtt', baseUrl: on, token, concurrency: 1, durationMs, path: () => '/v2/health/live' })
      );
      for (const b of benches) {
        const bs = bodies(b);
        const route = `/v2/models/${b.name}/infer`;
        const serve = (url: string, c: number, ms: number) =>
          runLoad({
            name: b.name,
            baseUrl: url,
            token,
            concurrency: c,
            durationMs: ms,
            path: () => route,
            body: (i) => bs[i % 256],
          });
        await Promise.all([serve(on, 1, 300), serve(off, 1, 300)]); // warm up: the first request loads the model
        for (const c of CONCURRENCY) {
          const rounds: Record<string, LoadResult[]> = { floor: [], on: [], off: [] };
          for (let r = 0; r < ROUNDS; r++) {
            rounds.floor.push(await floor(b, c, durationMs / ROUNDS));
            rounds.on.push(await serve(on, c, durationMs / ROUNDS));
            rounds.off.push(await serve(off, c, durationMs / ROUNDS));
          }
          add(b.name, 'in-process floor', c, combine(rounds.floor));
          add(b.name, 'server, batching on', c, combine(rounds.on));
          add(b.name, 'server, batching off', c, combine(rounds.off));
        }
      }
    })
  );
  const floorOf = (model: string, c: number) =>
    results.find((r) => r.model === model && r.variant === 'in-process floor' && r.concurrency === c)!;
  const rows = results.map((r) => ({
    model: r.model,
    variant: r.variant,
    c: r.concurrency,
    'req/s': r.rps,
    'p50 ms': r.p50,
    'p99 ms': r.p99,
    errors: notOk(r),
    'vs floor req/s': r.model === '-' ? '-' : (r.rps / floorOf(r.model, r.concurrency).rps).toFixed(2),
  }));
  report(
    'serving-online.json',
    'load generator, server and floor share these cores',
    { durationMs, serverWorkers: workers, results },
    rows
  );
});
