// `dataset_fingerprints`: the last sha256 the interval data check saw for each model's policy
// dataset (_id = model), so a check sends a data trigger only when the data changed.
import type { Db } from 'mongodb';
import type { Store } from './db';

interface FingerprintDoc {
  _id: string;
  sha256: string;
  at: Date;
}

/** Records `sha256` as seen for `model`; true when it differs from the one seen before. */
export async function noteDatasetFingerprint(
  store: Pick<Store, 'db'>,
  model: string,
  sha256: string
): Promise<boolean> {
  const c = (store.db as Db).collection<FingerprintDoc>('dataset_fingerprints');
  const before = await c.findOneAndUpdate(
    { _id: model },
    { $set: { sha256, at: new Date() } },
    { upsert: true, returnDocument: 'before' }
  );
  return before?.sha256 !== sha256;
}
