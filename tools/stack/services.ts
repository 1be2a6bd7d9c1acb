// The two servers of the embedded stack, as services (spawn + readiness check) for the
// supervisor, or started once and checked ready. Shared by `npm start` (tools/stack/main.ts),
// the jest global setup and the benchmarks.
import { Connection } from '@temporalio/client';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { searchAttributeArgs } from '../../lib/workflow-safe/search-attributes';
import { Child } from './child';
import { freePort } from './ports';
import { type ServiceDef, startService } from './supervisor';

export interface TemporalServerOptions {
  bin: string;
  host: string;
  port: number;
  namespace: string;
  /** SQLite file; state survives restarts. */
  dbFile: string;
  /** Web UI port, or undefined for --headless. */
  uiPort?: number;
  uiCodecEndpoint?: string;
  sink?: (line: string) => void;
  readyTimeoutMs?: number;
}

async function namespaceReady(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

/** The Temporal dev server as a supervised service: restarted, it opens the same SQLite state. */
export function temporalService(opts: TemporalServerOptions): ServiceDef {
  mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const args = ['server', 'start-dev', '--ip', opts.host, '--port', String(opts.port), '--db-filename', opts.dbFile];
  args.push('--namespace', opts.namespace, '--log-level', 'warn', ...searchAttributeArgs());
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  const address = `${opts.host}:${opts.port}`;
  return {
    name: 'temporal',
    spawn: () => new Child({ name: 'temporal', command: opts.bin, args, sink: opts.sink }),
    ready: (child) =>
      child.waitUntil(
        () => namespaceReady(address, opts.namespace),
        opts.readyTimeoutMs ?? 60_000,
        `namespace ${opts.namespace} on ${address}`
      ),
  };
}

export const startTemporalServer = (opts: TemporalServerOptions): Promise<Child> => startService(temporalService(opts));

export interface MongoServerOptions {
  bin: string;
  host: string;
  port: number;
  dataDir: string;
  sink?: (line: string) => void;
  /** Extra launcher flags (bench/store/write-gate.ts turns the write gate off to measure it). */
  extraArgs?: string[];
}

/** The MongoDB-wire server (FerretDB) as a supervised service: restarted, it opens the same data dir. */
export function mongoService(opts: MongoServerOptions): ServiceDef {
  // FerretDB logs every unimplemented command (e.g. endSessions) as a warning: errors only.
  const args = ['-listen', `${opts.host}:${opts.port}`, '-data', opts.dataDir, '-log-level', 'error'];
  return {
    name: 'mongodb',
    spawn: () =>
      new Child({ name: 'mongodb', command: opts.bin, args: [...args, ...(opts.extraArgs ?? [])], sink: opts.sink }),
    ready: (child) => child.waitForLine(/^ready mongodb:\/\//, 30_000),
  };
}

export const startMongoServer = (opts: MongoServerOptions): Promise<Child> => startService(mongoService(opts));

export interface EmbeddedServers {
  temporalAddress: string;
  mongoUri: string;
  stop(): Promise<void>;
}

/**
 * Both servers on free loopback ports with their state and logs in `dir` (headless UI): the
 * test harness and the benchmarks. If one fails to start, the other is stopped again.
 */
export async function startEmbeddedServers(
  tools: { temporal: string; ferretdb: string },
  dir: string
): Promise<EmbeddedServers> {
  const log = createWriteStream(path.join(dir, 'servers.log'));
  const sink = (line: string) => log.write(`${line}\n`);
  const [temporalPort, mongoPort] = [await freePort(), await freePort()];
  const started = await Promise.allSettled([
    startTemporalServer({
      bin: tools.temporal,
      host: '127.0.0.1',
      port: temporalPort,
      namespace: 'default',
      dbFile: path.join(dir, 'temporal.sqlite'),
      sink,
    }),
    startMongoServer({
      bin: tools.ferretdb,
      host: '127.0.0.1',
      port: mongoPort,
      dataDir: path.join(dir, 'ferretdb'),
      sink,
    }),
  ]);
  const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => {
    await Promise.all(children.map((c) => c.stop(5_000)));
    log.end();
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { temporalAddress: `127.0.0.1:${temporalPort}`, mongoUri: `mongodb://127.0.0.1:${mongoPort}/`, stop };
}
