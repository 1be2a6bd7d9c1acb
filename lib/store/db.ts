// The MongoDB connection, and the master keys that encrypt artifacts at rest.
// Collections and their indexes live in one module per collection next to this file.
import { Db, MongoClient } from 'mongodb';
import type { Config } from '../config';
import { keyringFor, type Keyring } from '../crypto/keyring';

export interface Store {
  client: MongoClient;
  db: Db;
  /**
   * Encrypts artifacts at rest (lib/store/artifacts.ts) with the process's master keys.
   * openStore/createStore always set it; a store built by hand without it reads and writes
   * artifacts in clear, and refuses to read encrypted ones.
   */
  keyring?: Keyring;
  close(): Promise<void>;
}

type StoreConfig = Pick<Config, 'MONGODB_URI' | 'MONGODB_DB' | 'MLOPS_ENCRYPTION_KEYS' | 'MLOPS_ENV' | 'dataDir'>;

/** A store whose client connects lazily: nothing is awaited on the network here. */
export async function createStore(cfg: StoreConfig): Promise<Store> {
  const client = new MongoClient(cfg.MONGODB_URI, { serverSelectionTimeoutMS: 5_000, appName: 'mlops' });
  const db = client.db(cfg.MONGODB_DB);
  return { client, db, keyring: await keyringFor(cfg), close: () => client.close() };
}

export async function openStore(cfg: StoreConfig): Promise<Store> {
  const store = await createStore(cfg);
  await store.client.connect();
  return store;
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
