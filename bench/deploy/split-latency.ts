// What the traffic split adds to a request (issue 14): p50/p99 of one-row Open Inference Protocol
// requests for three models served by one inference server at once, all with the same two
// penguins versions: `plain` has no split (production answers), `split` a 50% canary (the caller
// key, the request id here, is hashed per request), `shadow` mirrors every request to the
// candidate. Rounds alternate the three, so background load on a shared machine hits all alike;
// the per-version statistics are counted in all three (the gates need stable's numbers too).
//
//   npx tsx bench/deploy/split-latency.ts [--duration 4] [--concurrency 1,8]
//
// Prints a table and writes bench/results/deploy-split-latency.json.
import { trafficSplits, type TrafficSplitDoc } from '../../lib/store/deployments';
import { penguins, penguinsFeatures } from '../../test/unit/ml/data';
import { runLoad, type LoadResult } from '../api/load';
import { arg } from '../stack';
import * as serving from '../serving/common';

const durationMs = arg('duration', 4) * 1000;
const concurrencyArg = process.argv.indexOf('--concurrency');
const CONCURRENCY =
  concurrencyArg >= 0 ? process.argv[concurrencyArg + 1].split(',').map(Number) : ([1, 8] as number[]);
const ROUNDS = 6;
const VARIANTS = ['plain', 'split', 'shadow'] as const;
type Variant = (typeof VARIANTS)[number];
const SPLITS: Record<Variant, Pick<TrafficSplitDoc, 'candidate' | 'candidateWeight' | 'mode'> | null> = {
  plain: null,
  split: { candidate: 2, candidateWeight: 50, mode: 'split' },
  shadow: { candidate: 2, candidateWeight: 0, mode: 'shadow' },
};

/** One-row v2 bodies with distinct request ids (the split's caller key when no header is sent). */
function bodies(): (i: number) => string {
  const frame = penguins();
  return (i) =>
    JSON.stringify({
      id: `req-${i}`,
      inputs: penguinsFeatures.map((f) => {
        const v = frame.columns[f.name][i % 256];
        return {
          name: f.name,
          shape: [1, 1],
          datatype: f.type === 'numeric' ? 'FP32' : 'BYTES',
          data: [typeof v === 'number' && Number.isNaN(v) ? null : v],
        };
      }),
    });
}

serving.onEmbeddedStore('bench_split', async ({ cfg, store }, log) => {
  log('training two penguins versions');
  const [v1, v2] = [await serving.penguinsOnnx(1), await serving.penguinsOnnx(2)];
  for (const variant of VARIANTS) {
    const name = `penguins-${variant}`;
    await serving.registerOnnx(store, name, v1, penguinsFeatures, 344);
    await serving.registerOnnx(store, name, v2, penguinsFeatures, 344, false);
    const split = SPLITS[variant];
    if (split) {
      await trafficSplits(store.db).insertOne({
        _id: name,
        stable: 1,
        ...split,
        revision: 1,
        deploymentId: 'bench',
        updatedAt: new Date(),
      });
    }
  }
  const token = await serving.predictorToken(store);
  const body = bodies();
  const results: (LoadResult & { variant: Variant; concurrency: number })[] = [];
  await serving.withServer(cfg, { MLOPS_INFERENCE_POLL_MS: '500' }, async (url) => {
    const serve = (variant: Variant, concurrency: number, ms: number) =>
      runLoad({
        name: variant,
        baseUrl: url,
        token,
        concurrency,
        durationMs: ms,
        path: () => `/v2/models/penguins-${variant}/infer`,
        body,
      });
    for (const v of VARIANTS) await serve(v, 1, 500); // warm up: the first request loads the model
    for (const c of CONCURRENCY) {
      const rounds: Record<Variant, LoadResult[]> = { plain: [], split: [], shadow: [] };
      for (let r = 0; r < ROUNDS; r++) {
        // Rotate the order each round, so no variant always runs first.
        for (let k = 0; k < VARIANTS.length; k++) {
          const v = VARIANTS[(k + r) % VARIANTS.length];
          rounds[v].push(await serve(v, c, durationMs / ROUNDS));
        }
      }
      for (const v of VARIANTS) {
        const res = serving.combine(rounds[v]);
        results.push({ ...res, variant: v, concurrency: c });
        log(`${v} c=${c}: ${res.rps} req/s p50 ${res.p50} ms p99 ${res.p99} ms`);
      }
    }
  });
  const plainOf = (c: number) => results.find((r) => r.variant === 'plain' && r.concurrency === c)!;
  const rows = results.map((r) => {
    const base = plainOf(r.concurrency);
    return {
      variant: r.variant,
      c: String(r.concurrency),
      'req/s': r.rps,
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      'p50 added ms': r.variant === 'plain' ? '-' : (r.p50 - base.p50).toFixed(3),
      'p99 added ms': r.variant === 'plain' ? '-' : (r.p99 - base.p99).toFixed(3),
      'p50 vs plain': (r.p50 / base.p50).toFixed(2),
      'not 200': String(serving.notOk(r)),
    };
  });
  serving.report(
    'deploy-split-latency.json',
    'load generator and server share these cores',
    { durationMs, rounds: ROUNDS, results },
    rows
  );
});
