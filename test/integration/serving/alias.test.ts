/** @jest-environment ./test/unit/ml/ort-environment.js */
// Which version answers, on a real server under load: an alias move is followed within seconds
// with no failed request, every answer names its version, and once the new version has answered
// only it answers. A version whose registry record or artifact bytes were tampered with is never
// served: the last good version keeps answering, pinning it is refused, and the refusal is counted.
import { Binary } from 'mongodb';
import { audit } from '../../../lib/store/audit';
import { modelVersions } from '../../../lib/store/models';
import { waitFor } from '../harness/wait';
import { get, infer, metric, penguinsRequest, promote, registerPenguins, servingSuite } from './helpers';

const env = servingSuite({ prepare: (store, model, data) => registerPenguins(store, model, data, { seed: 1 }) });
const { model: MODEL, data } = env;

interface Answer {
  sentAt: number;
  doneAt: number;
  status: number;
  header: string | null;
  version: string | undefined;
}

/** `concurrency` clients sending requests back to back until stop() resolves. */
function load(concurrency: number) {
  const answers: Answer[] = [];
  let running = true;
  const body = penguinsRequest(data.test, 0, 4);
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const sentAt = performance.now();
      const r = await infer(env.server.url, MODEL, env.tokens.predictor, body);
      answers.push({
        sentAt,
        doneAt: performance.now(),
        status: r.status,
        header: r.headers.get('x-model-version'),
        version: r.body?.model_version,
      });
    }
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

const inferPinned = (version: number) =>
  infer(
    env.server.url,
    MODEL,
    env.tokens.predictor,
    penguinsRequest(data.test, 0, 1),
    `/v2/models/${MODEL}/versions/${version}/infer`
  );

const refusals = () =>
  metric(
    env.server.url,
    env.tokens.admin,
    `mlops_inference_model_load_failures_total{model="${MODEL}",reason="signature"}`
  );

it('follows an alias move under load without a failed request', async () => {
  expect(
    (await infer(env.server.url, MODEL, env.tokens.predictor, penguinsRequest(data.test, 0, 1))).body.model_version
  ).toBe('1');
  const traffic = load(8);
  await waitFor('50 answers from v1', async () => traffic.answers.length >= 50, 60_000);
  const { version: v2 } = await registerPenguins(env.store, MODEL, data, { seed: 2, hidden: [8] });
  const movedAt = performance.now();
  await waitFor('an answer from v2', async () => traffic.answers.some((a) => a.version === '2'), 30_000);
  const firstV2 = Math.min(...traffic.answers.filter((a) => a.version === '2').map((a) => a.doneAt));
  await waitFor(
    '50 answers after the swap',
    async () => traffic.answers.filter((a) => a.sentAt > firstV2).length >= 50,
    60_000
  );
  const answers = await traffic.stop();

  expect(v2.version).toBe(2);
  expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  for (const a of answers) {
    expect(['1', '2']).toContain(a.version);
    expect(a.header).toBe(a.version);
  }
  // Both versions answered, the switch came within seconds, and after it only v2.
  expect(answers.filter((a) => a.version === '1').length).toBeGreaterThan(0);
  expect(firstV2 - movedAt).toBeLessThan(20_000); // poll interval 200 ms; generous for a busy machine
  expect(answers.filter((a) => a.sentAt > firstV2 && a.version !== '2')).toEqual([]);
  expect(env.server.lines.some((l) => /alias moved: now serving/.test(l) && /"version":2/.test(l))).toBe(true);
});

it('never serves a version whose registry record was tampered with', async () => {
  const { version: v3 } = await registerPenguins(env.store, MODEL, data, { seed: 3, promote: false });
  // Someone with database access points v3's serving artifact at other bytes, then promotes it.
  await modelVersions(env.store.db).updateOne(
    { _id: v3._id },
    { $set: { 'artifacts.serving.sha256': 'f'.repeat(64) } }
  );
  const refusedBefore = await refusals();
  await promote(env.store, MODEL, v3.version);
  await waitFor('the signature refusal', async () => (await refusals()) > refusedBefore, 30_000);
  // Several poll intervals later the last good version still answers.
  await new Promise((r) => setTimeout(r, 1_000));
  for (let i = 0; i < 5; i++) {
    const r = await infer(env.server.url, MODEL, env.tokens.predictor, penguinsRequest(data.test, 0, 1));
    expect({ status: r.status, version: r.body.model_version }).toEqual({ status: 200, version: '2' });
  }
  const pinned = await inferPinned(3);
  expect(pinned.status).toBe(503);
  expect(pinned.body).toEqual({ error: expect.stringMatching(/v3 failed signature verification/) });
  expect(pinned.headers.get('x-model-version')).toBeNull();
  const ready = await get(env.server.url, `/v2/models/${MODEL}/versions/3/ready`, env.tokens.predictor);
  expect(ready).toMatchObject({ status: 503, body: { name: MODEL, ready: false } });
  expect(await audit(env.store.db).findOne({ action: 'model.verify', 'object.id': v3._id })).toMatchObject({
    outcome: 'failed',
  });
});

it('never serves a version whose artifact bytes were changed in the store', async () => {
  const { version: v4 } = await registerPenguins(env.store, MODEL, data, { seed: 4, promote: false, hidden: [6] });
  // The record is intact (its signature verifies) but the stored chunk is not the signed content.
  const sha = v4.artifacts.serving.sha256;
  const chunk = await env.store.db.collection('artifact_chunks').findOne({ _id: `${sha}:0` as never });
  const bytes = Buffer.from((chunk!.data as Binary).buffer);
  bytes[bytes.length >> 1] ^= 0xff;
  await env.store.db
    .collection('artifact_chunks')
    .updateOne({ _id: `${sha}:0` as never }, { $set: { data: new Binary(bytes) } });
  const pinned = await inferPinned(4);
  expect(pinned.status).toBe(503);
  expect(pinned.body.error).toMatch(/model '.*' cannot be loaded now/);
  await promote(env.store, MODEL, v4.version);
  await new Promise((r) => setTimeout(r, 1_500));
  const r = await infer(env.server.url, MODEL, env.tokens.predictor, penguinsRequest(data.test, 0, 1));
  expect({ status: r.status, version: r.body.model_version }).toEqual({ status: 200, version: '2' });
});
