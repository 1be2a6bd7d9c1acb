// The per-version statistics' flush against the real MongoDB-wire server, through the one failure
// $inc cannot survive alone: a write that was applied but reported failed (a timeout after the
// server acted). The retry carries the same sequence id and must not add the batch twice; the
// histogram stays an array and labels with MongoDB path characters keep their own key.
import type { Db } from 'mongodb';
import { openStore, type Store } from '../../../lib/store/db';
import { fieldKey, servingStats, STATS_WINDOW_MS } from '../../../lib/store/deployments';
import { createServingMetrics } from '../../../serving/metrics';
import { VersionStats } from '../../../serving/version-stats';
import { servingConfig } from './helpers';

let store: Store;
beforeAll(async () => {
  store = await openStore(servingConfig());
});
afterAll(async () => {
  await store.db.dropDatabase().catch(() => undefined);
  await store.close();
});

/** The real database, except that the next bulkWrite is applied and then reported failed. */
function applyThenFail(db: Db) {
  const state = { failNext: false };
  const wrapped = {
    collection(name: string) {
      const c = db.collection(name);
      return new Proxy(c, {
        get(target, prop) {
          if (prop === 'bulkWrite' && state.failNext) {
            return async (...args: Parameters<typeof target.bulkWrite>) => {
              await target.bulkWrite(...args);
              state.failNext = false;
              throw new Error('timed out after the server applied the write');
            };
          }
          const v = Reflect.get(target, prop) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
  } as unknown as Db;
  return { db: wrapped, state };
}

it('adds a batch once when its write was applied but reported failed', async () => {
  const { db, state } = applyThenFail(store.db);
  // A fixed clock in the middle of a window: every observation lands in the same document.
  const now = () => 1_000 * STATS_WINDOW_MS + 1;
  const stats = new VersionStats(db, 'host:1:2', createServingMetrics(), now);
  const observe = (n: number, label: string) => {
    for (let i = 0; i < n; i++) {
      stats.record({
        model: 'm',
        version: 3,
        shadow: false,
        latencyMs: 3,
        error: false,
        prediction: { rows: 1, labels: [label] },
      });
    }
  };
  observe(7, 'a.b');
  state.failNext = true;
  await stats.flush(); // applied, then "failed": kept for retry
  const [doc] = await servingStats(store.db).find({ model: 'm' }).toArray();
  expect(doc.requests).toBe(7);
  await stats.flush(); // the retry: same sequence id, not added again
  observe(3, '$x');
  stats.record({ model: 'm', version: 3, shadow: false, latencyMs: 9_000, error: true });
  await stats.flush();
  const docs = await servingStats(store.db).find({ model: 'm' }).toArray();
  expect(docs).toHaveLength(1);
  expect(docs[0]).toMatchObject({
    _id: `m:3:host:1:2:${1_000 * STATS_WINDOW_MS}`,
    version: 3,
    server: 'host:1:2',
    shadow: false,
    requests: 11,
    errors: 1,
    predictions: { [fieldKey('a.b')]: 7, [fieldKey('$x')]: 3 },
  });
  expect(docs[0].windowStart).toEqual(new Date(1_000 * STATS_WINDOW_MS));
  expect(docs[0].latency).toEqual([0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  expect(docs[0].flushes).toHaveLength(2);
});
