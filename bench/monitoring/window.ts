// One monitoring window over one million logged rows, on one CPU worker's code path: the
// prediction log is filled with 1 M rows (requests of --batch rows, 6 numeric and 2 categorical
// features, half of them shifted), then the monitorWindow activity streams them from the store
// and writes its report. Also the pure sketch-and-compare cost on the same rows in memory, so the
// store's share is visible. Prints JSON and a table; writes bench/results/monitoring-window.json.
//   npx tsx bench/monitoring/window.ts [--rows 1000000] [--batch 100]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { createMonitoringActivities } from '../../activities/monitoring';
import { mulberry32 } from '../../lib/ml/rng';
import { thresholdsOf } from '../../lib/monitoring/drift';
import { profileCategorical, profileNumeric, type ReferenceProfile } from '../../lib/monitoring/profile';
import { WindowAccumulator } from '../../lib/monitoring/window';
import { MEDIA, putArtifact } from '../../lib/store/artifacts';
import { openStore } from '../../lib/store/db';
import { registerModelVersion } from '../../lib/store/models';
import { saveReferenceProfile } from '../../lib/store/monitoring';
import { PREDICTION_LOG, ensurePredictionLogIndexes } from '../../serving/prediction-log';
import { arg, startBenchStack } from '../stack';

const NUMERIC = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'];
const CATEGORICAL = ['c0', 'c1'];
const COLORS = ['red', 'green', 'blue', 'amber'];

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
}

function entry(rand: () => number, rows: number, shift: number, at: Date) {
  const inputs = [
    ...NUMERIC.map((name, j) => ({
      name,
      shape: [rows, 1],
      datatype: 'FP32',
      data: Array.from({ length: rows }, () => j * 10 + gaussian(rand) * (1 + j) + shift),
    })),
    ...CATEGORICAL.map((name) => ({
      name,
      shape: [rows, 1],
      datatype: 'BYTES',
      data: Array.from({ length: rows }, () => COLORS[Math.min(3, Math.floor(rand() ** (1 + shift) * 4))]),
    })),
  ];
  const outputs = [{ name: 'label', shape: [rows], datatype: 'BYTES', data: inputs[6].data }];
  return {
    at,
    requestId: `r-${rand().toString(36).slice(2)}`,
    model: 'bench',
    version: 1,
    tokenId: 'bench',
    inputs,
    outputs,
  };
}

function reference(rand: () => number, rows: number): ReferenceProfile {
  const e = entry(rand, rows, 0, new Date());
  return {
    rows,
    features: [
      ...NUMERIC.map((n, j) => profileNumeric(n, Float64Array.from(e.inputs[j].data as number[]))),
      ...CATEGORICAL.map((n, j) => profileCategorical(n, e.inputs[NUMERIC.length + j].data as string[])),
    ],
    prediction: profileCategorical('label', e.inputs[6].data as string[]),
  };
}

async function main(): Promise<void> {
  const total = arg('rows', 1_000_000);
  const batch = arg('batch', 100);
  const stack = await startBenchStack('bench-monitoring');
  const cfg = stack.config();
  const store = await openStore(cfg);
  try {
    const rand = mulberry32(7);
    const profile = reference(rand, 20_000);
    const ref = await putArtifact(store, Buffer.from('bench'), MEDIA.onnx);
    const { version } = await registerModelVersion(store, {
      name: 'bench',
      runId: 'run-bench',
      metrics: {},
      artifacts: { onnx: ref },
      lineage: {
        datasetSha256: '0'.repeat(64),
        datasetSource: 'bench',
        datasetRows: 20_000,
        spec: {},
        codeVersion: 'bench',
        parentRun: 'run-bench',
        trainer: {},
        features: [],
        target: 'y',
        task: 'classification',
        artifacts: { onnx: ref.sha256 },
      },
    });
    await saveReferenceProfile(store, version.runId, { rows: profile.rows, features: profile.features });
    await saveReferenceProfile(store, version.runId, { prediction: profile.prediction, predictionRows: profile.rows });
    await ensurePredictionLogIndexes(store.db, 30);

    // Fill the log: the window ends at the last hour boundary; entries sit in the hour before it.
    const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const log = store.db.collection(PREDICTION_LOG);
    const entries = [];
    const fillStarted = performance.now();
    let pending: ReturnType<typeof entry>[] = [];
    for (let i = 0; i < total / batch; i++) {
      const e = entry(rand, batch, i % 2 ? 0.5 : 0, new Date(end - 3_000_000 + i));
      entries.push(e);
      pending.push(e);
      if (pending.length === 500) {
        await log.insertMany(pending);
        pending = [];
        process.stderr.write(`\rfilling the prediction log: ${((i + 1) * batch).toLocaleString('en-US')} rows`);
      }
    }
    if (pending.length) await log.insertMany(pending);
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    process.stderr.write('\n');

    // The pure computation on the same rows (no store).
    const memStarted = performance.now();
    const acc = new WindowAccumulator(profile, { thresholds: thresholdsOf(undefined) });
    for (const e of entries) acc.add(e);
    const summary = acc.summary();
    const memorySeconds = (performance.now() - memStarted) / 1000;
    entries.length = 0;

    // The store's part alone: streaming the window's entries.
    const window = { $gte: new Date(end - 86_400_000), $lt: new Date(end) };
    const t = performance.now();
    let streamed = 0;
    for await (const e of log.find(
      { model: 'bench', version: 1, at: window },
      { projection: { inputs: 1, outputs: 1 }, batchSize: 1000 }
    )) {
      streamed += e ? 1 : 0;
    }
    const streamSeconds = (performance.now() - t) / 1000;
    process.stderr.write(`stream ${streamed} entries ${streamSeconds.toFixed(2)} s\n`);

    // The activity as the CPU worker runs it: stream from the store, write report, HTML, audit.
    const acts = createMonitoringActivities({ cfg, store });
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const result = await acts.monitorWindow({ model: 'bench', at: end + 1_000 });
    const activitySeconds = (performance.now() - started) / 1000;
    const heapDeltaMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

    const out = {
      rows: total,
      rowsPerRequest: batch,
      features: NUMERIC.length + CATEGORICAL.length,
      cpu: os.cpus()[0]?.model,
      load: os.loadavg().map((l) => Number(l.toFixed(1))),
      fillSeconds: Number(fillSeconds.toFixed(2)),
      store: { streamSeconds: Number(streamSeconds.toFixed(2)) },
      inMemory: { seconds: Number(memorySeconds.toFixed(3)), rowsPerSec: Math.round(total / memorySeconds) },
      activity: {
        seconds: Number(activitySeconds.toFixed(2)),
        rowsPerSec: Math.round(result.rows / activitySeconds),
        rowsRead: result.rows,
        heapDeltaMb: Number(heapDeltaMb.toFixed(1)),
        drifted: result.drifted,
      },
      driftedColumns: summary.dataset.driftedColumns,
      underTenSeconds: activitySeconds < 10,
    };
    console.log(JSON.stringify(out, null, 2));
    writeFileSync(path.resolve(__dirname, '../results/monitoring-window.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(`\n${total.toLocaleString('en-US')} logged rows (${batch} per request), ${out.features} features:`);
    console.log('path                               seconds    rows/s');
    console.log(
      `sketch + compare, in memory      ${memorySeconds.toFixed(3).padStart(9)} ${String(out.inMemory.rowsPerSec).padStart(10)}`
    );
    console.log(
      `monitorWindow activity (store)   ${activitySeconds.toFixed(2).padStart(9)} ${String(out.activity.rowsPerSec).padStart(10)}`
    );
    console.log(
      `store share of the activity: ${(((activitySeconds - memorySeconds) / activitySeconds) * 100).toFixed(0)}%`
    );
  } finally {
    await store.close();
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
