// Starts the API in-process on port 0 against the run's real Temporal and MongoDB-wire
// servers, with a database and task queues of its own, and tokens for every role.
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Role } from '../../../lib/auth/roles';
import type { Config } from '../../../lib/config';
import { openStore, type Store } from '../../../lib/store/db';
import { createToken } from '../../../lib/store/tokens';
import { createClient } from '../../../lib/temporal/connection';
import { createApp, prepareStore, type ApiLimits, type MlopsApp } from '../../../api/app';
import { createLogger } from '../../../lib/telemetry/logger';
import { gatewayFromClient } from '../../../api/temporal';
import { testConfig } from '../harness/env';

/** A Config on the harness servers with its own database and queues, and an admin token. */
export function apiTestConfig(overrides: Record<string, string> = {}): Config {
  return testConfig({
    MONGODB_DB: `api_${randomUUID().slice(0, 8)}`,
    MLOPS_ADMIN_TOKEN: `admin-${randomUUID()}`,
    ...overrides,
  });
}

export type TokenName = Role | 'scientist2' | 'approver2';

export interface TestApi {
  url: string;
  cfg: Config;
  store: Store;
  app: MlopsApp;
  tokens: Record<TokenName, string>;
  /** Subjects behind the tokens (scientist2 shares the subject of scientist: same person). */
  subjects: Record<TokenName, string>;
  logLines: string[];
  close(): Promise<void>;
}

export async function startTestApi(
  /** keepDatabase: close() leaves the database (a second API on another one's database). */
  opts: { cfg?: Config; limits?: Partial<ApiLimits>; keepDatabase?: boolean } = {}
): Promise<TestApi> {
  const cfg = opts.cfg ?? apiTestConfig();
  const store = await openStore(cfg);
  await prepareStore(store, cfg.MLOPS_ADMIN_TOKEN);
  const client = await createClient(cfg);
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => logLines.push(l) });
  const app = createApp({ cfg, store, temporal: gatewayFromClient(client), log, limits: opts.limits });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  const subjects: Record<TokenName, string> = {
    admin: 'admin',
    predictor: 'shop-app',
    viewer: 'vera',
    scientist: 'sam',
    scientist2: 'sam',
    approver: 'alice',
    approver2: 'bob',
  };
  const tokens = { admin: cfg.MLOPS_ADMIN_TOKEN as string } as Record<TokenName, string>;
  for (const name of ['predictor', 'viewer', 'scientist', 'scientist2', 'approver', 'approver2'] as const) {
    const role = name.replace(/2$/, '') as Role;
    tokens[name] = (await createToken(store.db, { name, subject: subjects[name], role, createdBy: 'test' })).token;
  }
  return {
    url,
    cfg,
    store,
    app,
    tokens,
    subjects,
    logLines,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await client.connection.close();
      if (!opts.keepDatabase) await store.db.dropDatabase().catch(() => undefined);
      await store.close();
    },
  };
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** fetch with JSON in and out; `token` null sends no Authorization header. */
export async function call(
  api: Pick<TestApi, 'url'>,
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {}
): Promise<CallResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(api.url + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Asserts an RFC 9457 problem with this status and no stack trace. */
export function expectProblem(r: CallResult, status: number): void {
  expect({ status: r.status, text: r.text }).toMatchObject({ status });
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({
    status,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
  expect(r.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
}

export const MINIMAL_SPEC = { model: 'penguins', dataset: { name: 'penguins' }, target: 'species' };

/**
 * Creates a run document directly (as the pipeline's startRun does) and indexes it, as the
 * API does for runs it starts and the reconciler for others.
 */
export async function seedRun(
  api: Pick<TestApi, 'store'>,
  input: { runId: string; model: string; spec?: unknown; createdBy?: string; at?: Date }
): Promise<void> {
  const { createRun, getRun } = await import('../../../lib/store/runs');
  const { entryOf, indexRun } = await import('../../../lib/store/run-index');
  await createRun(api.store, { spec: MINIMAL_SPEC, ...input });
  await indexRun(api.store.db, entryOf((await getRun(api.store, input.runId))!));
}

/** Re-indexes a run after a test changed its document (what a writer hook or the reconciler does). */
export async function reindexRun(api: Pick<TestApi, 'store'>, runId: string): Promise<void> {
  const { getRun } = await import('../../../lib/store/runs');
  const { entryOf, indexRun } = await import('../../../lib/store/run-index');
  await indexRun(api.store.db, entryOf((await getRun(api.store, runId))!));
}
