// The harness itself: a workflow on the real dev server, run by fleet workers the harness creates
// (runStoreRoundTrip), whose activity writes to and reads back from the real MongoDB-wire server.
import { randomUUID } from 'node:crypto';
import { openStore, Store } from '../../../lib/store/db';
import { runStoreRoundTrip, testConfig } from '../harness/env';

describe('integration harness', () => {
  const cfg = testConfig();
  let store: Store;

  beforeAll(async () => {
    store = await openStore(cfg);
  });
  afterAll(async () => {
    await store.close();
  });

  it('runs a workflow whose activity round-trips a document through MongoDB', async () => {
    const key = randomUUID();
    const { result, history } = await runStoreRoundTrip(cfg, store.db, `smoke-${key}`, key, 'hello');
    expect(result).toBe('hello');
    const doc = await store.db.collection<{ _id: string; value: string }>('harness_smoke').findOne({ _id: key });
    expect(doc?.value).toBe('hello');
    expect(history.events?.some((e) => e.activityTaskCompletedEventAttributes)).toBe(true);
  });
});
