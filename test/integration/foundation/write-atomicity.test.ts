// The MongoDB-wire server must update one document atomically, as MongoDB does: the registry's
// version counter, alias compare-and-set and token revocation depend on it. FerretDB alone
// loses concurrent updates (read, modify, write back); tools/ferretdb's write gate fixes that.
import { randomUUID } from 'node:crypto';
import { openStore, Store } from '../../../lib/store/db';
import { testConfig } from '../harness/env';

interface Probe {
  _id: string;
  n?: number;
  owner?: string;
}

describe('single-document atomicity of the MongoDB-wire server', () => {
  let store: Store;
  const col = () => store.db.collection<Probe>('atomicity_probe');

  beforeAll(async () => {
    store = await openStore(testConfig());
  });
  afterAll(async () => {
    await store.close();
  });

  it('keeps every one of 40 concurrent increments of one document', async () => {
    const _id = randomUUID();
    await col().insertOne({ _id, n: 0 });
    await Promise.all(Array.from({ length: 40 }, () => col().updateOne({ _id }, { $inc: { n: 1 } })));
    expect((await col().findOne({ _id }))?.n).toBe(40);
  });

  it('keeps concurrent updates of different fields of one document', async () => {
    const _id = randomUUID();
    await col().insertOne({ _id });
    await Promise.all(Array.from({ length: 20 }, (_, i) => col().updateOne({ _id }, { $set: { [`f${i}`]: i } })));
    const doc = await col().findOne({ _id });
    for (let i = 0; i < 20; i++) expect((doc as Record<string, unknown> | null)?.[`f${i}`]).toBe(i);
  });

  it('lets exactly one of 20 concurrent compare-and-set updates win', async () => {
    const _id = randomUUID();
    await col().insertOne({ _id, owner: 'none' });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => col().updateOne({ _id, owner: 'none' }, { $set: { owner: `w${i}` } }))
    );
    expect(results.filter((r) => r.modifiedCount === 1)).toHaveLength(1);
  });
});
