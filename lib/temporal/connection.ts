// Connections to Temporal for clients (API, CLI-side tools, tests) and workers. Every
// process goes through here so that the data converter (payload codec) is the same
// everywhere.
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';

type TemporalConfig = Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>;

/** The data converter shared by clients and workers. */
export function dataConverter(): DataConverter {
  return {};
}

export async function createClient(cfg: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE, dataConverter: dataConverter() });
}

export async function createWorkerConnection(cfg: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
}
