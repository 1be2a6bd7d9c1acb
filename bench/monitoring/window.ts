// One monitoring window over one million rows, on one CPU worker's code path: the window is
// filled through the inference server's own drift-sketch writer (serving/drift-sketches.ts):
// --rows rows in requests of --batch rows (6 numeric and 2 categorical features, half of them
// shifted), spread over --servers simulated servers and --minutes one-minute buckets, flushed
// into `drift_sketches`; then the monitorWindow activity merges them and writes its report. Side
// by side in the same run: the server-side sketch cost per row, and the old path (streaming the
// raw prediction log into the same sketches) on a --raw-rows slice, for the ratio. Prints JSON and
// a table; writes bench/results/monitoring-window.json.
//   npx tsx bench/monitoring/window.ts [--rows 1000000] [--batch 100] [--servers 4] [--minutes 50]
//                                      [--raw-rows 100000]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { createMonitoringActivities } from '../../activities/monitoring';
import { mulberry32 } from '../../lib/workflow-safe/rng';
import { thresholdsOf } from '../../lib/monitoring/drift';
import { profileCategorical, profileNumeric, type ReferenceProfile } from '../../lib/monitoring/profile';
import { WindowAccumulator } from '../../lib/monitoring/window';
import { DRIFT_SKETCHES } from '../../lib/store/drift-sketches';
import { MEDIA, putArtifact } from '../../lib/store/artifacts';
import { openStore } from '../../lib/store/db';
import { registerModelVersion } from '../../lib/store/models';
import { saveReferenceProfile } from '../../lib/store/monitoring';
import { DriftSketches } from '../../serving/drift-sketches';
import { createServingMetrics } from '../../serving/metrics';
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

const MINUTE = 60_000;
const HOUR = 3_600_000;
const seconds = (t: number) => Number(((performance.now() - t) / 1000).toFixed(3));

async function main(): Promise<void> {
  const total = arg('rows', 1_000_000);
  const batch = arg('batch', 100);
  const servers = arg('servers', 4);
  const minutes = arg('minutes', 50);
  const rawRows = arg('raw-rows', 100_000);
  const stack = await startBenchStack('bench-monitoring');
  const cfg = stack.config({ MLOPS_DRIFT_SKETCH_BUCKET_S: '60' });
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
    const served = { name: 'bench', version: version.version, runId: version.runId };

    // The default policy's window: the 24 h before the last hour boundary; traffic in its last minutes.
    const end = Math.floor(Date.now() / HOUR) * HOUR;
    let clock = end - minutes * MINUTE;
    const writers = Array.from(
      { length: servers },
      (_, k) => new DriftSketches(store.db, `bench-${k}:8080:1`, createServingMetrics(), MINUTE, () => clock)
    );
    // Each writer reads the profile on its first request; the rest is timed once they hold it.
    const requests = Math.ceil(total / batch);
    for (let k = 0; k < servers; k++) writers[k].record(served, entry(rand, batch, 0, new Date()));
    await new Promise((r) => setTimeout(r, 1_000));
    let sketchNs = 0n;
    const fillStarted = performance.now();
    for (let i = servers; i < requests; i++) {
      clock = end - minutes * MINUTE + Math.floor((i / requests) * minutes) * MINUTE + (i % MINUTE);
      const e = entry(rand, batch, i % 2 ? 0.5 : 0, new Date(clock));
      const t = process.hrtime.bigint();
      writers[i % servers].record(served, e);
      sketchNs += process.hrtime.bigint() - t;
      if (i % 1000 === 0) process.stderr.write(`\rsketching: ${(i * batch).toLocaleString('en-US')} rows`);
    }
    const flushStarted = performance.now();
    await Promise.all(writers.map((w) => w.close()));
    const flushSeconds = seconds(flushStarted);
    const fillSeconds = seconds(fillStarted);
    process.stderr.write('\n');
    const sketchDocs = await store.db.collection(DRIFT_SKETCHES).countDocuments({});

    // The activity as the CPU worker runs it: merge the window's buckets, write report, HTML, audit.
    const acts = createMonitoringActivities({ cfg, store });
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const result = await acts.monitorWindow({ model: 'bench', at: end + 1_000 });
    const activitySeconds = seconds(started);
    const heapDeltaMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

    // The old path on a slice: the raw prediction log of --raw-rows rows streamed into the sketches.
    await ensurePredictionLogIndexes(store.db, 30);
    const log = store.db.collection(PREDICTION_LOG);
    for (let i = 0; i < rawRows / batch; i += 500) {
      const n = Math.min(500, rawRows / batch - i);
      await log.insertMany(
        Array.from({ length: n }, (_, j) => entry(rand, batch, (i + j) % 2 ? 0.5 : 0, new Date(end - HOUR + i + j)))
      );
      process.stderr.write(`\rfilling the raw prediction log slice: ${((i + n) * batch).toLocaleString('en-US')} rows`);
    }
    process.stderr.write('\n');
    const rawStarted = performance.now();
    const acc = new WindowAccumulator(profile, { thresholds: thresholdsOf(undefined) });
    for await (const e of log.find(
      { model: 'bench', version: 1, at: { $gte: new Date(end - 86_400_000), $lt: new Date(end) } },
      { projection: { inputs: 1, outputs: 1 }, batchSize: 1000 }
    )) {
      acc.add(e as unknown as Parameters<WindowAccumulator['add']>[0]);
    }
    const rawSeconds = seconds(rawStarted);
    const rawPerMillion = (rawSeconds / acc.summary().rows) * 1_000_000;

    const out = {
      rows: total,
      rowsPerRequest: batch,
      servers,
      buckets: minutes,
      features: NUMERIC.length + CATEGORICAL.length,
      cpu: os.cpus()[0]?.model,
      load: os.loadavg().map((l) => Number(l.toFixed(1))),
      server: {
        sketchNsPerRow: Math.round(Number(sketchNs) / total),
        fillSeconds,
        flushSeconds,
        sketchDocuments: sketchDocs,
      },
      activity: {
        seconds: activitySeconds,
        rowsRead: result.rows,
        rowsPerSec: Math.round(result.rows / activitySeconds),
        heapDeltaMb: Number(heapDeltaMb.toFixed(1)),
        drifted: result.drifted,
      },
      rawLog: {
        rows: acc.rows,
        seconds: rawSeconds,
        secondsPerMillionRows: Number(rawPerMillion.toFixed(1)),
      },
      speedup: Number((rawPerMillion / ((activitySeconds / result.rows) * 1_000_000)).toFixed(0)),
      underTenSeconds: activitySeconds < 10,
    };
    console.log(JSON.stringify(out, null, 2));
    writeFileSync(path.resolve(__dirname, '../results/monitoring-window.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(
      `\n${result.rows.toLocaleString('en-US')} rows (${batch} per request, ${servers} servers, ${minutes} buckets), ${out.features} features, load ${out.load.join(' ')}:`
    );
    console.log('path                                               seconds   per 1M rows');
    console.log(
      `server-side sketching (record(), on the request)  ${(Number(sketchNs) / 1e9).toFixed(2).padStart(8)}   ${out.server.sketchNsPerRow} ns/row`
    );
    console.log(
      `monitorWindow activity (${sketchDocs} sketch docs stored) ${activitySeconds.toFixed(2).padStart(8)}   ${((activitySeconds / result.rows) * 1e6).toFixed(2)} s`
    );
    console.log(
      `old path: raw prediction log, ${acc.rows.toLocaleString('en-US')} rows ${rawSeconds.toFixed(2).padStart(8)}   ${rawPerMillion.toFixed(1)} s`
    );
    console.log(`activity vs raw log, per row: ${out.speedup}x faster`);
  } finally {
    await store.close();
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
