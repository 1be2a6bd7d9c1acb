// The MongoDB connection. Collections and their indexes live in one module per
// collection next to this file; each exports an `ensure...Indexes(db)` that
// `ensureIndexes` below calls once at process start.
import { Db, MongoClient } from 'mongodb';
import type { Config } from '../config';

export interface Store {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

export async function openStore(cfg: Pick<Config, 'MONGODB_URI' | 'MONGODB_DB'>): Promise<Store> {
  const client = new MongoClient(cfg.MONGODB_URI, { serverSelectionTimeoutMS: 5_000, appName: 'mlops' });
  await client.connect();
  const db = client.db(cfg.MONGODB_DB);
  return { client, db, close: () => client.close() };
}

/** True while the server answers a ping. Used by /readyz. */
export async function isReachable(store: Store): Promise<boolean> {
  try {
    await store.db.command({ ping: 1 });
    return true;
  } catch {
    return false;
  }
}
