// The inference server's drift-sketch writer against an in-memory stand-in for the two calls it
// makes (profile findOne, sketches bulkWrite; the real store is in
// test/integration/monitoring/sketches.test.ts): cumulative bucket and hour states, a failed
// write retried with the larger total, hour roll-ups equal to their buckets, no profile: no sketch.
import type { Db } from 'mongodb';
import { profileCategorical, profileNumeric } from '../../../lib/monitoring/profile';
import { parseWindowState } from '../../../lib/monitoring/window-state';
import { HOUR_MS } from '../../../lib/store/drift-sketches';
import { DriftSketches, PROFILE_RETRY_MS } from '../../../serving/drift-sketches';
import { createServingMetrics } from '../../../serving/metrics';

const M = 60_000;
const profile = {
  _id: 'run-1',
  rows: 3,
  features: [profileNumeric('x', Float64Array.from([0, 5, 10])), profileCategorical('c', ['a', 'b'])],
  prediction: null,
};

function fakeDb(opts: { profile: boolean }) {
  const docs = new Map<string, Record<string, string>>();
  let failNext = false;
  let profileReads = 0;
  const db = {
    collection: (name: string) =>
      name === 'reference_profiles'
        ? {
            findOne: async () => {
              profileReads++;
              return opts.profile ? profile : null;
            },
          }
        : {
            bulkWrite: async (ops: { updateOne: { filter: { _id: string }; update: { $set: object } } }[]) => {
              if (failNext) {
                failNext = false;
                throw new Error('store down');
              }
              for (const { updateOne: u } of ops) {
                const servers = docs.get(u.filter._id) ?? {};
                for (const [k, v] of Object.entries(u.update.$set)) servers[k.slice('servers.'.length)] = v as string;
                docs.set(u.filter._id, servers);
              }
            },
          },
  } as unknown as Db;
  const rows = (id: string) => Object.values(docs.get(id) ?? {}).reduce((n, s) => n + parseWindowState(s).rows, 0);
  return { db, docs, rows, failOnce: () => (failNext = true), profileReads: () => profileReads };
}

const served = { name: 'm', version: 1, runId: 'run-1' };
const req = (n: number) => ({ inputs: [{ name: 'x', data: new Array(n).fill(5) }], outputs: [] });
const settle = () => new Promise((r) => setImmediate(r));

describe('drift sketches writer', () => {
  it('writes cumulative bucket and hour states; a failed write is retried with the larger total', async () => {
    const store = fakeDb({ profile: true });
    const metrics = createServingMetrics();
    const t0 = 10 * HOUR_MS + 58 * M;
    let now = t0;
    const w = new DriftSketches(store.db, 'srv', metrics, M, () => now);
    w.record(served, req(2)); // read the profile; held meanwhile
    await settle();
    w.record(served, req(3));
    await w.flush();
    expect(store.rows(`m:1:${t0}`)).toBe(5);
    w.record(served, req(4));
    store.failOnce();
    await w.flush();
    expect(store.rows(`m:1:${t0}`)).toBe(5);
    expect((await metrics.sketchFailures.get()).values).toEqual([
      expect.objectContaining({ labels: { reason: 'store_error' }, value: 1 }),
    ]);
    await w.flush(); // the retry writes the total, not the difference
    expect(store.rows(`m:1:${t0}`)).toBe(9);
    now = t0 + M; // the next bucket, same hour
    w.record(served, req(1));
    now = t0 + 2 * M; // the next hour
    w.record(served, req(10));
    await w.close();
    expect(store.rows(`m:1:${t0 + M}`)).toBe(1);
    expect(store.rows(`m:1:h:${10 * HOUR_MS}`)).toBe(10); // 9 + 1: its two buckets
    expect(store.rows(`m:1:h:${11 * HOUR_MS}`)).toBe(10);
    expect([...store.docs.keys()].sort()).toHaveLength(5);
  });

  it('does not sketch a version without a profile, and looks again after 30 s', async () => {
    const store = fakeDb({ profile: false });
    let now = 0;
    const w = new DriftSketches(store.db, 'srv', createServingMetrics(), M, () => now);
    w.record(served, req(2));
    await settle();
    w.record(served, req(2));
    await w.flush();
    expect(store.docs.size).toBe(0);
    expect(store.profileReads()).toBe(1);
    now = PROFILE_RETRY_MS + 1;
    w.record(served, req(2));
    await settle();
    expect(store.profileReads()).toBe(2);
  });
});
