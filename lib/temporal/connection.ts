// Connections to Temporal for clients (API, tools, tests) and workers. Every process goes
// through here so that the data converter (payload encryption) is the same everywhere.
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { keyringFor, type KeyringConfig } from '../crypto/keyring';
import { EncryptionCodec } from './encryption-codec';

/** Also passed to bundleWorkflowCode when workflows are bundled ahead of time. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

type TemporalConfig = Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>;
/** The data converter shared by clients and workers: every payload encrypted, failures too. */
export async function createDataConverter(cfg: KeyringConfig): Promise<DataConverter> {
  return {
    payloadCodecs: [new EncryptionCodec(await keyringFor(cfg))],
    // Messages and stack traces of failures are encrypted as well.
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

export async function createClient(cfg: TemporalConfig & KeyringConfig): Promise<Client> {
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE, dataConverter: await createDataConverter(cfg) });
}

export async function createWorkerConnection(cfg: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
}
