// Connections to Temporal for clients (API, tools, tests) and workers. Every process goes
// through here so that the data converter (payload encryption) is the same everywhere.
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { readFileSync } from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, type Config } from '../config';
import { keyringFor, type KeyringConfig } from '../crypto/keyring';
import { EncryptionCodec } from './encryption-codec';

/** Also passed to bundleWorkflowCode when workflows are bundled ahead of time. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

type TemporalConfig = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_NAMESPACE'
  | 'TEMPORAL_TLS_CERT_FILE'
  | 'TEMPORAL_TLS_KEY_FILE'
  | 'TEMPORAL_TLS_CA_FILE'
  | 'TEMPORAL_TLS_SERVER_NAME'
>;

/** TLS (and mTLS with a client pair) when any TEMPORAL_TLS_* file is set; plaintext otherwise. */
export function temporalTls(cfg: TemporalConfig): TLSConfig | undefined {
  const { TEMPORAL_TLS_CERT_FILE: cert, TEMPORAL_TLS_KEY_FILE: key, TEMPORAL_TLS_CA_FILE: ca } = cfg;
  if (!cert && !key && !ca) return undefined;
  if (!cert !== !key) {
    throw new ConfigError(['TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE: set both (mTLS client pair) or neither']);
  }
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError([`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`]);
    }
  };
  return {
    serverNameOverride: cfg.TEMPORAL_TLS_SERVER_NAME,
    serverRootCACertificate: ca ? read('TEMPORAL_TLS_CA_FILE', ca) : undefined,
    clientCertPair:
      cert && key ? { crt: read('TEMPORAL_TLS_CERT_FILE', cert), key: read('TEMPORAL_TLS_KEY_FILE', key) } : undefined,
  };
}
/** The data converter shared by clients and workers: every payload encrypted, failures too. */
export async function createDataConverter(
  cfg: KeyringConfig & Partial<Pick<Config, 'MLOPS_TEMPORAL_ACCEPT_PLAINTEXT'>>
): Promise<DataConverter> {
  const acceptPlaintext = cfg.MLOPS_TEMPORAL_ACCEPT_PLAINTEXT === '1';
  return {
    payloadCodecs: [new EncryptionCodec(await keyringFor(cfg), { acceptPlaintext })],
    // Messages and stack traces of failures are encrypted as well.
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

export async function createClient(cfg: TemporalConfig & KeyringConfig): Promise<Client> {
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS, tls: temporalTls(cfg) });
  return new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE, dataConverter: await createDataConverter(cfg) });
}

export async function createWorkerConnection(cfg: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS, tls: temporalTls(cfg) });
}
