/** @jest-environment ./test/unit/ml/ort-environment.js */
// The prediction log and the store going away. The inference server reaches MongoDB through a TCP
// proxy that the test cuts: sampled requests are logged in batches (with a TTL index) while the
// store is up; while it is down, inference keeps answering from the loaded model and the log's
// entries are dropped and counted (each one written or counted, none lost silently); once it is
// back, logging resumes.
import net from 'node:net';
import { PREDICTION_LOG } from '../../../serving/prediction-log';
import { waitFor } from '../harness/wait';
import { infer, metric as metricOf, penguinsRequest, registerPenguins, servingSuite } from './helpers';

/** A TCP proxy to the real MongoDB-wire server that can be cut (refusing and dropping connections) and restored. */
async function cuttableProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const up = () =>
    new Promise<void>((resolve) => {
      if (server?.listening) return resolve();
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = () =>
    new Promise<void>((resolve) => {
      if (!server?.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  await up();
  return { port, up, down };
}

let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
const env = servingSuite({
  prepare: async (store, model, data) => {
    await registerPenguins(store, model, data);
    await store.db
      .collection(PREDICTION_LOG)
      .insertOne({ requestId: 'expired', model, at: new Date(Date.now() - 31 * 86_400_000) });
  },
  serverEnv: async (cfg) => {
    const mongo = new URL(cfg.MONGODB_URI.replace(/^mongodb:/, 'http:'));
    proxy = await cuttableProxy({ host: mongo.hostname, port: Number(mongo.port) });
    return {
      MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}/`,
      MLOPS_PREDICTION_LOG_SAMPLE: '1',
      MLOPS_PREDICTION_LOG_BUFFER: '20',
    };
  },
});
const { model: MODEL, data } = env;
// After the suite's own afterAll (hooks run in order): the server is stopped before its store goes.
afterAll(() => proxy?.down());

const metric = (name: string) => metricOf(env.server.url, env.tokens.admin, name);
const predict = (id: string) =>
  infer(env.server.url, MODEL, env.tokens.predictor, { id, ...penguinsRequest(data.test, 0, 2) });

it('logs sampled requests in batches, with a TTL index', async () => {
  for (let i = 0; i < 5; i++) expect((await predict(`up-${i}`)).status).toBe(200);
  const entries = await waitFor(
    'five prediction log entries',
    async () => {
      const docs = await env.store.db.collection(PREDICTION_LOG).find({ model: MODEL }).toArray();
      return docs.length >= 5 && docs;
    },
    30_000
  );
  const first = entries.find((e) => e.requestId === 'up-0')!;
  expect(first).toMatchObject({ model: MODEL, version: 1, tokenId: expect.stringMatching(/^tok_/) });
  expect(first.at).toBeInstanceOf(Date);
  expect(first.inputs.map((i: { name: string }) => i.name)).toEqual(
    penguinsRequest(data.test, 0, 2).inputs.map((i) => i.name)
  );
  expect(first.outputs[0]).toMatchObject({ name: 'label', shape: [2] });
  // MongoDB expires entries by a TTL index; FerretDB v1 has none, so the server swept the entry
  // that was already past the TTL when it started.
  const indexes = await env.store.db.collection(PREDICTION_LOG).indexes();
  const ttl = indexes.find((ix) => ix.name === 'ttl_at');
  if (ttl) expect(ttl).toMatchObject({ key: { at: 1 }, expireAfterSeconds: 30 * 86_400 });
  else expect(indexes.find((ix) => ix.name === 'at')).toMatchObject({ key: { at: 1 } });
  expect(await env.store.db.collection(PREDICTION_LOG).findOne({ requestId: 'expired' })).toBeNull();
  expect(await metric('mlops_inference_prediction_log_written_total')).toBeGreaterThanOrEqual(5);
});

it('keeps answering while the store is down, and counts the dropped log entries', async () => {
  await metric('mlops_inference_requests_total'); // the admin token is in the cache before the cut
  const dropped = (reason: string) => metric(`mlops_inference_prediction_log_dropped_total{reason="${reason}"}`);
  const droppedBefore = (await dropped('buffer_full')) + (await dropped('store_error'));
  await proxy.down();
  try {
    for (let i = 0; i < 60; i++) {
      const r = await predict(`down-${i}`);
      expect({ status: r.status, version: r.body.model_version }).toEqual({ status: 200, version: '1' });
    }
    // The buffer holds 20: the rest were dropped at once, and the stuck write's entries once it failed.
    await waitFor('dropped log entries', async () => (await dropped('store_error')) > 0, 60_000);
    expect(await dropped('buffer_full')).toBeGreaterThan(0);
  } finally {
    await proxy.up();
  }
  // Back up: logging resumes. The first requests after the cut may still find the buffer full of
  // outage entries (a write stuck in server selection holds it) and be dropped as designed, so
  // keep sending until one of them is logged.
  let back = 0;
  await waitFor(
    'logging to resume',
    async () => {
      expect((await predict(`back-${back++}`)).status).toBe(200);
      return (await env.store.db.collection(PREDICTION_LOG).findOne({ requestId: /^back-/ })) !== null;
    },
    60_000
  );
  // Nothing vanished silently: each of the 60 entries of the outage was either written (it was still
  // buffered when the store came back) or counted as dropped. Which ones is a matter of timing.
  await waitFor(
    'every outage entry written or counted as dropped',
    async () => {
      const written = await env.store.db.collection(PREDICTION_LOG).countDocuments({ requestId: /^down-/ });
      const lost = (await dropped('buffer_full')) + (await dropped('store_error')) - droppedBefore;
      return written + lost >= 60; // (a write cut mid-flight may land and still count as dropped)
    },
    60_000
  );
});
