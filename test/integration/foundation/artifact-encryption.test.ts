// Artifacts at rest: MongoDB holds only ciphertext, reads decrypt and verify, and any
// change to the stored bytes is refused by name.
import { Binary } from 'mongodb';
import { ARTIFACT_CHUNKS, ArtifactIntegrityError, putArtifact, readArtifact } from '../../../lib/store/artifacts';
import { openStore, Store } from '../../../lib/store/db';
import { testConfig } from '../harness/env';

describe('artifact encryption at rest', () => {
  let store: Store;
  const cfg = testConfig();
  // A second process of the same deployment: same database and keys.
  const testConfigDir = () => cfg.dataDir;
  beforeAll(async () => {
    store = await openStore(cfg);
  });
  afterAll(() => store.close());

  const clear = Buffer.from(`model weights ${'0.1234 '.repeat(100_000)}`); // ~700 KB: several chunks

  it('stores ciphertext only and reads back the clear bytes', async () => {
    const ref = await putArtifact(store, clear, 'application/octet-stream');
    const chunks = await store.db.collection<{ data: Binary }>(ARTIFACT_CHUNKS).find({ sha256: ref.sha256 }).toArray();
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(Buffer.from(c.data.buffer).includes(Buffer.from('model weights'))).toBe(false);
    expect((await readArtifact(store, ref)).equals(clear)).toBe(true);
  });

  it('lets racing writers of the same bytes leave one readable artifact', async () => {
    const other = await openStore(testConfig({ MONGODB_DB: store.db.databaseName, MLOPS_DATA_DIR: testConfigDir() }));
    try {
      const bytes = Buffer.concat([clear, Buffer.from(`race ${Date.now()}`)]);
      const refs = await Promise.all(
        [store, other, store, other].map((s) => putArtifact(s, bytes, 'application/octet-stream'))
      );
      expect(new Set(refs.map((r) => r.sha256)).size).toBe(1);
      expect((await readArtifact(store, refs[0])).equals(bytes)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('refuses a tampered chunk, naming the artifact, and a store without keys', async () => {
    const other = Buffer.concat([clear, Buffer.from('v2')]);
    const ref = await putArtifact(store, other, 'application/octet-stream');
    await expect(readArtifact({ db: store.db }, ref)).rejects.toThrow(/is encrypted at rest/);
    const col = store.db.collection<{ _id: string; data: Binary }>(ARTIFACT_CHUNKS);
    const first = (await col.findOne({ _id: `${ref.sha256}:0` }))!;
    const bytes = Buffer.from(first.data.buffer);
    bytes[100] ^= 0xff;
    await col.updateOne({ _id: first._id }, { $set: { data: new Binary(bytes) } });
    const failure = readArtifact(store, ref);
    await expect(failure).rejects.toBeInstanceOf(ArtifactIntegrityError);
    await expect(readArtifact(store, ref)).rejects.toThrow(new RegExp(`artifact artifact://sha256/${ref.sha256}`));
  });
});
