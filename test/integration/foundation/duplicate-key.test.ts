// isDuplicateKey against the real MongoDB-wire server: the store's idempotent writes (versions,
// artifacts, checkpoints, run index buckets) rely on recognising a duplicate by its code, for a
// single insert and for an unordered bulk insert, and on rethrowing everything else.
import { openStore, Store } from '../../../lib/store/db';
import { isDuplicateKey } from '../../../lib/store/errors';
import { testConfig } from '../harness/env';

describe('isDuplicateKey on the real server', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(testConfig());
  });
  afterAll(async () => {
    await store.close();
  });

  async function refusal(write: () => Promise<unknown>): Promise<unknown> {
    try {
      await write();
    } catch (err) {
      return err;
    }
    throw new Error('the write was expected to be refused');
  }

  it('recognises a duplicate _id from insertOne and from an unordered insertMany', async () => {
    const col = store.db.collection<{ _id: string; n?: number }>('dup_probe');
    await col.insertOne({ _id: 'a' });
    expect(isDuplicateKey(await refusal(() => col.insertOne({ _id: 'a' })))).toBe(true);
    const bulk = await refusal(() => col.insertMany([{ _id: 'b' }, { _id: 'a' }, { _id: 'c' }], { ordered: false }));
    expect(isDuplicateKey(bulk)).toBe(true);
    expect(await col.countDocuments({ _id: { $in: ['b', 'c'] } })).toBe(2); // unordered: the others landed
  });

  it('does not take another server error for a duplicate', async () => {
    const col = store.db.collection<{ _id: string; n: unknown }>('dup_probe_other');
    await col.insertOne({ _id: 's', n: 'text' });
    const other = await refusal(() => col.updateOne({ _id: 's' }, { $inc: { n: 1 } } as never)); // $inc of a string
    expect(other).toBeInstanceOf(Error);
    expect(isDuplicateKey(other)).toBe(false);
  });
});
