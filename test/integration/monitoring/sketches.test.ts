/** @jest-environment ./test/unit/ml/ort-environment.js */
// The drift sketches on the real MongoDB wire (embedded FerretDB): two inference-server writers
// (serving/drift-sketches.ts, each with its own server id) sketch traffic into the same time
// buckets, flush repeatedly and concurrently, and the monitorWindow activity counts every
// request exactly once: cumulative states $set per server, never added twice, never overwritten
// by another server; read from hour roll-ups for whole hours and from buckets at ragged edges
// (a bucket counts when it overlaps the window). Traffic in a bucket after the window is not counted.
import { createMonitoringActivities } from '../../../activities/monitoring';
import { predictionProfile, profileFrame } from '../../../lib/monitoring/profile';
import { driftSketches, writeSketches } from '../../../lib/store/drift-sketches';
import { openStore, type Store } from '../../../lib/store/db';
import { saveReferenceProfile } from '../../../lib/store/monitoring';
import { modelPolicySchema } from '../../../lib/spec/policy';
import { putModelPolicy } from '../../../lib/store/policies';
import { DriftSketches } from '../../../serving/drift-sketches';
import { createServingMetrics } from '../../../serving/metrics';
import { penguinsFeatures } from '../../unit/ml/data';
import { penguinsRequest, penguinsSplit, registerPenguins, servingConfig } from '../serving/helpers';

const cfg = servingConfig({ MLOPS_DRIFT_SKETCH_BUCKET_S: '60' });
const data = penguinsSplit();
let store: Store;
beforeAll(async () => {
  store = await openStore(cfg);
}, 60_000);
afterAll(async () => {
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.close();
});

const HOUR = 3_600_000;
const MINUTE = 60_000;

it('two servers flushing repeatedly give a window that counts each request once', async () => {
  const model = `sk-${Date.now().toString(36)}`;
  const { version } = await registerPenguins(store, model, data);
  await saveReferenceProfile(store, version.runId, {
    rows: data.train.length,
    features: profileFrame(data.train, penguinsFeatures),
  });
  const species = data.test.columns.species as (string | null)[];
  await saveReferenceProfile(store, version.runId, {
    prediction: predictionProfile({ labels: species.map((s) => s ?? '') }),
    predictionRows: data.test.length,
  });
  const served = { name: model, version: version.version, runId: version.runId };
  // The default policy's window: the 24 hours before the last hour boundary.
  const end = Math.floor(Date.now() / HOUR) * HOUR;
  let clock = end - 30 * MINUTE;
  const writers = ['host-a:8080:1', 'host-b:8080:1'].map(
    (id) => new DriftSketches(store.db, id, createServingMetrics(), MINUTE, () => clock)
  );
  const request = (from: number) => ({
    ...penguinsRequest(data.test, from, from + 10),
    outputs: [{ name: 'label', shape: [10], datatype: 'BYTES', data: species.slice(from, from + 10) }],
  });
  let sent = 0;
  const traffic = async (writer: DriftSketches, requests: number) => {
    for (let i = 0; i < requests; i++) {
      writer.record(served, request((sent % 6) * 10));
      sent++;
      if (i % 7 === 0) await writer.flush(); // flushes mid-bucket: cumulative, not added
    }
  };
  // The first record reads the profile; wait for it so the clock is not moved under it.
  await traffic(writers[0], 1);
  await new Promise((r) => setTimeout(r, 1_000));
  await Promise.all([traffic(writers[0], 29), traffic(writers[1], 20)]);
  const inFirstBucket = sent;
  clock += MINUTE; // the next bucket: a rollover flush, then more traffic of both
  await Promise.all([traffic(writers[1], 10), traffic(writers[0], 5)]);
  for (const w of writers) {
    await w.flush();
    await w.flush(); // nothing changed: nothing written twice
  }
  const inWindow = sent;
  // Traffic in a bucket that starts at the window's end belongs to the next window.
  clock = end + 5_000;
  await traffic(writers[0], 3);
  await Promise.all(writers.map((w) => w.close()));

  const docs = await driftSketches(store.db).find({ model }).toArray();
  expect(docs.map((d) => [d._id, Object.keys(d.servers).length]).sort()).toEqual(
    [
      [`${model}:1:${end - 30 * MINUTE}`, 2],
      [`${model}:1:${end - 29 * MINUTE}`, 2],
      [`${model}:1:h:${end - HOUR}`, 2],
      [`${model}:1:${end}`, 1],
      [`${model}:1:h:${end}`, 1],
    ].sort()
  );
  // Writing a server's state again (a retried flush whose first try did land) changes nothing.
  const [first] = docs.filter((d) => d.from.getTime() === end - 30 * MINUTE);
  const [key, state] = Object.entries(first.servers)[0];
  await writeSketches(store.db, key, [
    { model, version: 1, bucketStart: end - 30 * MINUTE, bucketMs: MINUTE, state },
    { model, version: 1, bucketStart: end - 30 * MINUTE, bucketMs: MINUTE, state },
  ]);

  const acts = createMonitoringActivities({ cfg, store });
  const result = await acts.monitorWindow({ model, at: end + 1_000 });
  expect(result).toMatchObject({ status: 'ok', rows: inWindow * 10 });
  const report = await store.db.collection('monitoring_reports').findOne({ _id: result.reportId as never });
  expect(report).toMatchObject({ requests: inWindow, rows: inWindow * 10 });

  // A window with ragged edges, [end - 89.5 min, end - 29.5 min), reads buckets: the one starting
  // at end - 30 min overlaps it and counts whole, the one at end - 29 min starts after it.
  await putModelPolicy(store, model, modelPolicySchema.parse({ monitor: { every: 10_000, window: '1h' } }), 'test');
  const ragged = await acts.monitorWindow({ model, at: end - 29.5 * MINUTE + 5_000 });
  expect(ragged).toMatchObject({ status: 'ok', rows: inFirstBucket * 10 });
}, 180_000);
