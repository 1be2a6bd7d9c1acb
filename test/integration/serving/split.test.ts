/** @jest-environment ./test/unit/ml/ort-environment.js */
// The traffic split on real inference servers (child processes) and a real MongoDB-wire server:
// requests for a model name go to stable or candidate by a sticky hash of the caller key, a new
// split revision is picked up within seconds and a stale one is ignored, a candidate that fails
// verification never answers, a restarted server answers with the current split from its first
// request, shadow answers never reach the client and are compared and counted, and the per-version
// statistics in `serving_stats` add up exactly to what the clients saw, over two servers and many
// flushes, with a candidate made slow and failing by MLOPS_INFERENCE_FAULTS.
import { randomUUID } from 'node:crypto';
import {
  allServersReady,
  instanceModel,
  LATENCY_BOUNDS_MS,
  liveServingInstances,
  servingStats,
  splitBucket,
  trafficSplits,
  type TrafficSplitDoc,
} from '../../../lib/store/deployments';
import { modelVersions } from '../../../lib/store/models';
import { waitFor } from '../harness/wait';
import {
  metric,
  penguinsRequest,
  registerPenguins,
  servingSuite,
  spawnInference,
  type InferenceChild,
} from './helpers';

const env = servingSuite({
  prepare: async (store, model, data) => {
    await registerPenguins(store, model, data, { seed: 1 }); // v1: production, stable
    await registerPenguins(store, model, data, { seed: 2, hidden: [8], promote: false }); // v2: a good candidate
    await registerPenguins(store, model, data, { seed: 3, permuted: true, promote: false }); // v3: predicts differently
    const { version: v4 } = await registerPenguins(store, model, data, { seed: 4, promote: false });
    // v4's registry record is changed after signing: it must never answer.
    await modelVersions(store.db).updateOne({ _id: v4._id }, { $set: { 'artifacts.serving.sha256': 'e'.repeat(64) } });
    await registerPenguins(store, model, data, { seed: 5, promote: false }); // v5: faulted
  },
  serverEnv: () => FAULTS,
  timeoutMs: 180_000,
});
const { model: MODEL, data } = env;
const ROWS = 4;
const body = penguinsRequest(data.test, 0, ROWS);
/** v5 fails half its requests and answers 25 ms late, on every server of this test. */
const FAULTS = { MLOPS_INFERENCE_FAULTS: JSON.stringify({ [`${MODEL}@5`]: { errorRate: 0.5, delayMs: 25 } }) };
/** Heartbeats older than this many polls (200 ms each) are not live; generous for a busy machine. */
const LIVE_POLLS = 15;

let servers: InferenceChild[] = [];
let revision = 0;
/** What the clients saw, per version: answers (200) and model failures (500), to check the stats against. */
const seen = new Map<string, { ok: number; failed: number }>();

beforeAll(() => void (servers = [env.server]));
// After the suite's own afterAll (hooks run in order): the first server was replaced after its
// kill, and the suite stops the original.
afterAll(async () => {
  for (const s of servers) if (s !== env.server) await s.child.stop(5_000);
});

async function setSplit(split: Partial<Omit<TrafficSplitDoc, '_id' | 'revision' | 'updatedAt'>>, rev = ++revision) {
  const doc = {
    stable: 1,
    candidate: null,
    candidateWeight: 0,
    mode: 'split' as const,
    deploymentId: 'test',
    ...split,
  };
  await trafficSplits(env.store.db).updateOne(
    { _id: MODEL },
    { $set: { ...doc, revision: rev, updatedAt: new Date() } },
    { upsert: true }
  );
  return rev;
}

/** Waits until `count` servers are live, each holding split `rev` and (given) having `version` loaded. */
function held(rev: number, version?: number, count = servers.length) {
  return waitFor(
    `${count} server(s) holding split revision ${rev}${version ? ` with v${version} loaded` : ''}`,
    async () => {
      const live = await liveServingInstances(env.store.db, LIVE_POLLS);
      if (live.length !== count) return false;
      const ok =
        version === undefined
          ? live.every((d) => (instanceModel(d, MODEL)?.splitRevision ?? 0) >= rev)
          : allServersReady(live, MODEL, version, rev);
      return ok && live;
    },
    60_000
  );
}

/** One request by model name; returns the version that answered (from the header) and the status. */
async function ask(server: InferenceChild, caller?: string, id?: string) {
  const r = await fetch(`${server.url}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${env.tokens.predictor}`,
      'content-type': 'application/json',
      ...(caller ? { 'x-mlops-caller': caller } : {}),
    },
    body: JSON.stringify({ ...body, ...(id ? { id } : {}) }),
  });
  const answer = (await r.json()) as { model_version?: string };
  const version = r.headers.get('x-model-version') ?? '';
  const s = seen.get(version) ?? { ok: 0, failed: 0 };
  if (r.status === 200) s.ok++;
  else if (r.status === 500) s.failed++;
  else throw new Error(`unexpected ${r.status}: ${JSON.stringify(answer)}`);
  seen.set(version, s);
  if (r.status === 200) expect(answer.model_version).toBe(version);
  return { status: r.status, version };
}

const expected = (key: string, weight: number, candidate: number) =>
  String(splitBucket(MODEL, key) < weight ? candidate : 1);

/** serving_stats summed over servers and windows, for one version, live or shadow. */
async function statsOf(version: number, shadow = false) {
  const docs = await servingStats(env.store.db).find({ model: MODEL, version, shadow }).toArray();
  const sum = (f: (d: (typeof docs)[number]) => number) => docs.reduce((s, d) => s + f(d), 0);
  return {
    requests: sum((d) => d.requests),
    errors: sum((d) => d.errors),
    latency: LATENCY_BOUNDS_MS.map((_, i) => sum((d) => d.latency[i])).concat(
      sum((d) => d.latency[LATENCY_BOUNDS_MS.length])
    ),
    predicted: sum((d) => Object.values(d.predictions).reduce((a, b) => a + b, 0)),
    compared: sum((d) => d.compared ?? 0),
    agreed: sum((d) => d.agreed ?? 0),
    servers: new Set(docs.map((d) => d.server)).size,
  };
}

/** Waits until the stats of every version the clients saw equal what they saw. */
function statsFlushed() {
  return waitFor(
    'serving_stats equal to the answers the clients saw',
    async () => {
      for (const [v, s] of seen) {
        const st = await statsOf(Number(v));
        if (st.requests !== s.ok + s.failed || st.errors !== s.failed) return false;
      }
      return true;
    },
    30_000
  );
}

it('splits by weight, sticky per caller key (header, else the request id)', async () => {
  const rev = await setSplit({ candidate: 2, candidateWeight: 30 });
  await held(rev, 2);
  const callers = Array.from({ length: 120 }, (_, i) => `caller-${i}-${randomUUID().slice(0, 4)}`);
  const first = new Map<string, string>();
  for (const c of callers) first.set(c, (await ask(servers[0], c)).version);
  // Exactly the hashed side, so roughly the weight.
  for (const c of callers) expect([c, first.get(c)]).toEqual([c, expected(c, 30, 2)]);
  const share = callers.filter((c) => first.get(c) === '2').length / callers.length;
  expect(share).toBeGreaterThan(0.15);
  expect(share).toBeLessThan(0.45);
  // Sticky: a caller's retries meet the same version.
  for (const c of callers.slice(0, 20)) {
    for (let i = 0; i < 3; i++) expect((await ask(servers[0], c)).version).toBe(first.get(c));
  }
  // Without the header, the OIP request id is the key.
  const ids = Array.from({ length: 30 }, (_, i) => `order-${i}`);
  for (const id of ids) expect((await ask(servers[0], undefined, id)).version).toBe(expected(id, 30, 2));
});

it('picks up a new split within seconds and ignores a stale revision', async () => {
  const rev = await setSplit({ candidate: 2, candidateWeight: 100 });
  const setAt = Date.now();
  await waitFor('every caller on v2', async () => {
    for (let i = 0; i < 5; i++) if ((await ask(servers[0], `w-${i}`)).version !== '2') return false;
    return true;
  });
  expect(Date.now() - setAt).toBeLessThan(20_000); // poll 200 ms; generous for a busy machine
  // A write with a lower revision (a stale writer) changes nothing.
  await setSplit({ candidate: null }, rev - 1);
  await new Promise((r) => setTimeout(r, 1_500));
  for (let i = 0; i < 10; i++) expect((await ask(servers[0], `w-${i}`)).version).toBe('2');
  await setSplit({ candidate: null }, (revision = rev + 1));
  await held(revision);
  for (let i = 0; i < 10; i++) expect((await ask(servers[0], `w-${i}`)).version).toBe('1');
});

it('never gives traffic to a candidate that fails verification or does not exist', async () => {
  const refused = () =>
    metric(
      servers[0].url,
      env.tokens.admin,
      `mlops_inference_model_load_failures_total{model="${MODEL}",reason="signature"}`
    );
  const before = await refused();
  for (const candidate of [4, 99]) {
    const rev = await setSplit({ candidate, candidateWeight: 100 });
    const [doc] = await held(rev);
    expect(instanceModel(doc, MODEL)!.loaded).not.toContain(candidate);
    for (let i = 0; i < 20; i++) expect((await ask(servers[0], `u-${i}`)).version).toBe('1');
  }
  expect(await refused()).toBeGreaterThan(before);
});

it('mirrors to a shadow candidate whose answers never reach the client, and counts them', async () => {
  const rev = await setSplit({ candidate: 3, mode: 'shadow', candidateWeight: 100 });
  await held(rev, 3);
  const n = 60;
  for (let i = 0; i < n; i++) expect((await ask(servers[0], `s-${i}`)).version).toBe('1');
  const shadow = await waitFor(
    'the shadow copies counted',
    async () => {
      const s = await statsOf(3, true);
      return s.requests === n && s;
    },
    30_000
  );
  expect(shadow).toMatchObject({ requests: n, errors: 0, compared: n, predicted: n * ROWS });
  // v3 was trained on permuted labels: it disagrees with stable on nearly every request.
  expect(shadow.agreed).toBeLessThan(n / 2);
  expect((await statsOf(3, false)).requests).toBe(0);
  expect(seen.has('3')).toBe(false);
});

it('comes back from a kill with the current split, answering by it from the first request', async () => {
  const rev = await setSplit({ candidate: 2, candidateWeight: 100 });
  await held(rev, 2);
  await statsFlushed(); // what the killed server counted is in the store, so the totals stay exact
  await servers[0].child.kill();
  servers[0] = await spawnInference(env.cfg, FAULTS);
  for (let i = 0; i < 5; i++) expect((await ask(servers[0], `r-${i}`)).version).toBe('2');
});

it('adds the stats of two servers up exactly, with a slow candidate failing half its requests', async () => {
  servers.push(await spawnInference(env.cfg, FAULTS));
  const rev = await setSplit({ candidate: 5, candidateWeight: 50 });
  await held(rev, 5, 2);
  const before = seen.get('5') ?? { ok: 0, failed: 0 };
  expect(before).toEqual({ ok: 0, failed: 0 });
  await Promise.all(
    servers.map(async (s, k) => {
      for (let i = 0; i < 100; i++) await ask(s, `m-${k}-${i}`);
    })
  );
  const v5 = seen.get('5')!;
  expect(v5.failed).toBeGreaterThan(0);
  expect(v5.ok).toBeGreaterThan(0);
  await statsFlushed();
  const st = await statsOf(5);
  expect(st).toMatchObject({ requests: v5.ok + v5.failed, errors: v5.failed, predicted: v5.ok * ROWS, servers: 2 });
  // Every v5 answer waited for its 25 ms delay: none in the buckets up to 20 ms.
  expect(st.latency.slice(0, LATENCY_BOUNDS_MS.indexOf(20) + 1)).toEqual([0, 0, 0, 0, 0]);
  expect(st.latency.reduce((a, b) => a + b, 0)).toBe(st.requests);
  // Over the whole file: the live stats of every version equal what the clients saw.
  for (const [v, s] of seen) {
    const all = await statsOf(Number(v));
    expect({ v, requests: all.requests, errors: all.errors }).toEqual({
      v,
      requests: s.ok + s.failed,
      errors: s.failed,
    });
  }
  expect(servers[0].lines.some((l) => /FAULT INJECTION IS ON/.test(l))).toBe(true);
});
