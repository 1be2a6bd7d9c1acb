// Connections to Temporal for clients (API, tools, tests) and workers. Every process goes
// through here so that the data converter (payload encryption) is the same everywhere.
import { Client, Connection } from '@temporalio/client';
import { DataConverter, DefaultFailureConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { loadKeyring } from '../crypto/keyring';
import { EncryptionCodec } from './encryption-codec';

type TemporalConfig = Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>;
type KeyConfig = Pick<Config, 'MLOPS_ENCRYPTION_KEYS' | 'MLOPS_ENV' | 'dataDir'>;

const converters = new Map<string, Promise<DataConverter>>();

/** The data converter shared by clients and workers: every payload encrypted, failures too. */
export function createDataConverter(cfg: KeyConfig): Promise<DataConverter> {
  const cacheKey = `${cfg.dataDir}\0${cfg.MLOPS_ENCRYPTION_KEYS ?? ''}`;
  let converter = converters.get(cacheKey);
  if (!converter) {
    converter = loadKeyring({
      configured: cfg.MLOPS_ENCRYPTION_KEYS,
      dataDir: cfg.dataDir,
      production: cfg.MLOPS_ENV === 'production',
    }).then(({ keyring }) => ({
      payloadCodecs: [new EncryptionCodec(keyring)],
      // Messages and stack traces of failures are encrypted as well.
      failureConverter: new DefaultFailureConverter({ encodeCommonAttributes: true }),
    }));
    converter.catch(() => converters.delete(cacheKey));
    converters.set(cacheKey, converter);
  }
  return converter;
}

export async function createClient(cfg: TemporalConfig & KeyConfig): Promise<Client> {
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE, dataConverter: await createDataConverter(cfg) });
}

export async function createWorkerConnection(cfg: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
}
