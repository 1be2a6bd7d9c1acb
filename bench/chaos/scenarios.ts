// Chaos on the embedded stack, run through `npm start`'s own entry: runs submitted over the
// API while processes of the stack are SIGKILLed, each run then checked for exactly-once
// effects in three places: the API (run succeeded, exactly one model version), MongoDB's step
// events (no step completed twice) and Temporal's own history of the run (completed, and each
// activity's completing attempt is the one the step events recorded as completed). Shared by
// bench/chaos/main.ts (figures) and test/integration/foundation/chaos.test.ts (small counts).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Child } from '../../tools/stack/child';
import { adminToken, descendants } from '../../tools/stack/observe';
import { isTerminalStatus } from '../../lib/workflow-safe/statuses';

const run = promisify(execFile);

export type RunKind = 'single' | 'data-parallel' | 'search';

const SPECS: Record<RunKind, (model: string) => Record<string, unknown>> = {
  single: (model) => ({ model, dataset: { name: 'penguins' }, target: 'species', approval: { required: false } }),
  'data-parallel': (model) => ({
    model,
    dataset: { name: 'penguins' },
    target: 'species',
    approval: { required: false },
    trainer: { workers: 2, epochs: 20, hidden: [16] },
  }),
  search: (model) => ({
    model,
    dataset: { name: 'penguins' },
    target: 'species',
    approval: { required: false },
    trainer: { epochs: 20, hidden: [16] },
    search: { method: 'grid', space: { learningRate: [0.01, 0.03] }, trials: 2, parallelism: 2 },
  }),
};

export interface RunCheck {
  runId: string;
  kind: RunKind;
  status: string;
  modelVersions: number;
  /** Steps with more than one `completed` event. */
  duplicatedSteps: string[];
  /** Activities that Temporal completed on a later attempt than the first (a kill hit them). */
  retriedActivities: number;
  /** The workflow's close status in Temporal's history. */
  temporalStatus: string;
  ok: boolean;
}

export interface StackHandle {
  stack: Child;
  env: Record<string, string>;
  temporalBin: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** fetch failed (refused or reset); by name, as jest runs tests in a realm of their own. */
const isConnectionError = (err: unknown) => (err as Error).name === 'TypeError';

/** Reads over the API as admin, waiting out the API's own restarts (up to a minute). */
function api(h: StackHandle) {
  const base = `http://127.0.0.1:${h.env.MLOPS_API_PORT}`;
  const token = adminToken(h.env);
  const once = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    let res: Response | undefined;
    for (let i = 0; !res; i++) {
      res = await once(method, path, body).catch((err) => {
        if (i >= 60 || !isConnectionError(err)) throw err;
        return sleep(1_000).then(() => undefined);
      });
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  };
}

interface Submitted {
  runId: string;
  kind: RunKind;
  model: string;
}

/** One POST /v1/runs: the answer's status and run id, or 'connection error' (no answer at all). */
async function postRun(
  h: StackHandle,
  key: string,
  kind: RunKind,
  model: string
): Promise<{ status: number | 'connection error'; runId?: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${h.env.MLOPS_API_PORT}/v1/runs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${adminToken(h.env)}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify(SPECS[kind](model)),
    });
    const body = (await res.json().catch(() => ({}))) as { runId?: string };
    return { status: res.status, runId: body.runId };
  } catch (err) {
    if (isConnectionError(err)) return { status: 'connection error' };
    throw err;
  }
}

/** Submits a run over the API, retrying with the same Idempotency-Key while the API (a child too) is down. */
async function submit(
  h: StackHandle,
  kind: RunKind,
  model = `chaos-${kind}-${randomUUID().slice(0, 8)}`,
  key = randomUUID()
): Promise<Submitted> {
  for (let i = 0; ; i++) {
    const { status, runId } = await postRun(h, key, kind, model);
    if (status === 202 && runId) return { runId, kind, model };
    if (typeof status === 'number' && status < 500) throw new Error(`POST /v1/runs answered ${status}`);
    if (i > 120) throw new Error(`POST /v1/runs: still ${status} after ${i} tries`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

async function waitTerminal(h: StackHandle, runId: string, timeoutMs: number): Promise<string> {
  const call = api(h);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await call('GET', `/v1/runs/${runId}`).then(
      (r) => r.status as string,
      () => 'unreachable'
    );
    if (isTerminalStatus(status)) return status;
    if (Date.now() > until) return `timed out (${status})`;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

interface HistoryEvent {
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  activityTaskStartedEventAttributes?: { scheduledEventId: string; attempt: number };
  activityTaskCompletedEventAttributes?: { scheduledEventId: string };
}

/**
 * Temporal's history of a workflow (payloads stay encrypted: only the event structure is read).
 * The server may be down for a moment after a kill (the supervisor restarts it with backoff), so
 * a refused connection is retried for up to a minute.
 */
async function history(h: StackHandle, workflowId: string): Promise<HistoryEvent[]> {
  const args = [
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    '--address',
    h.env.TEMPORAL_ADDRESS,
    '--output',
    'json',
  ];
  for (let attempt = 1; ; attempt++) {
    try {
      const { stdout } = await run(h.temporalBin, args, { maxBuffer: 64 * 1024 * 1024 });
      return JSON.parse(stdout).events;
    } catch (err) {
      if (attempt >= 60 || !/connection refused|failed connecting/i.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** Attempt that completed each activity of the run's own history. */
function completingAttempts(events: HistoryEvent[]): number[] {
  const started = new Map<string, number>();
  const attempts: number[] = [];
  events.forEach((e) => {
    const s = e.activityTaskStartedEventAttributes;
    if (s) started.set(String(s.scheduledEventId), s.attempt);
    const c = e.activityTaskCompletedEventAttributes;
    if (c) attempts.push(started.get(String(c.scheduledEventId)) ?? 1);
  });
  return attempts;
}

async function checkRun(h: StackHandle, { runId, kind, model }: Submitted, timeoutMs: number): Promise<RunCheck> {
  const status = await waitTerminal(h, runId, timeoutMs);
  const call = api(h);
  const { versions } = await call('GET', `/v1/models/${model}`).catch(() => ({ versions: [] }));
  const events: { step: string; status: string; attempt: number }[] = (
    await call('GET', `/v1/runs/${runId}/events?limit=1000`)
  ).items;
  const completedBySteps = new Map<string, number>();
  for (const e of events.filter((x) => x.status === 'completed'))
    completedBySteps.set(e.step, (completedBySteps.get(e.step) ?? 0) + 1);
  const duplicatedSteps = [...completedBySteps].filter(([, n]) => n > 1).map(([s]) => s);
  const hist = await history(h, runId);
  const closing = hist[hist.length - 1]?.eventType ?? '';
  const temporalStatus = closing.replace(/^EVENT_TYPE_WORKFLOW_EXECUTION_/, '');
  const retriedActivities = completingAttempts(hist).filter((a) => a > 1).length;
  return {
    runId,
    kind,
    status,
    modelVersions: versions.length,
    duplicatedSteps,
    retriedActivities,
    temporalStatus,
    ok:
      status === 'succeeded' && versions.length === 1 && duplicatedSteps.length === 0 && temporalStatus === 'COMPLETED',
  };
}

/** The stack's processes whose command line matches, e.g. workers/gpu.ts. */
export function stackProcesses(h: StackHandle, match: RegExp): number[] {
  return descendants(h.stack.proc.pid!)
    .filter((p) => match.test(p.cmd))
    .map((p) => p.pid);
}

const WORKERS: Record<string, RegExp> = {
  control: /workers\/control\.ts/,
  gpu: /workers\/gpu\.ts/,
  cpu: /workers\/cpu\.ts/,
};

export interface ScenarioResult {
  scenario: string;
  runs: number;
  succeeded: number;
  lost: number;
  kills: Record<string, number>;
  retriedActivities: number;
  duplicatedSteps: number;
  extraModelVersions: number;
  wallSeconds: number;
  checks: RunCheck[];
}

function summarise(
  scenario: string,
  checks: RunCheck[],
  kills: Record<string, number>,
  startedAt: number
): ScenarioResult {
  return {
    scenario,
    runs: checks.length,
    succeeded: checks.filter((c) => c.ok).length,
    lost: checks.filter((c) => !c.ok).length,
    kills,
    retriedActivities: checks.reduce((n, c) => n + c.retriedActivities, 0),
    duplicatedSteps: checks.reduce((n, c) => n + c.duplicatedSteps.length, 0),
    extraModelVersions: checks.reduce((n, c) => n + Math.max(0, c.modelVersions - 1), 0),
    wallSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
    checks,
  };
}

/**
 * `runs` runs (kinds in turn), each followed after a random 0..maxDelayMs by a SIGKILL of a
 * random worker (control, GPU or CPU). A worker is killed again only after `spacingMs`, so that
 * the chaos stays under the supervisor's crash-loop limit (5 restarts in 60 s).
 */
export async function workerKills(
  h: StackHandle,
  opts: { runs: number; kinds: RunKind[]; maxDelayMs: number; spacingMs: number; runTimeoutMs: number }
): Promise<ScenarioResult> {
  const startedAt = Date.now();
  const kills: Record<string, number> = {};
  const lastKill = new Map<number, number>();
  const pending: Promise<RunCheck>[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const kind = opts.kinds[i % opts.kinds.length];
    pending.push(submit(h, kind).then((r) => checkRun(h, r, opts.runTimeoutMs)));
    await sleep(Math.random() * opts.maxDelayMs);
    for (;;) {
      const kinds = Object.keys(WORKERS).sort(() => Math.random() - 0.5);
      const victim = kinds
        .flatMap((k) => stackProcesses(h, WORKERS[k]).map((pid) => ({ k, pid })))
        .find(({ pid }) => Date.now() - (lastKill.get(pid) ?? 0) > opts.spacingMs);
      if (victim) {
        process.kill(victim.pid, 'SIGKILL');
        lastKill.set(victim.pid, Date.now());
        kills[victim.k] = (kills[victim.k] ?? 0) + 1;
        break;
      }
      await sleep(500);
    }
  }
  return summarise('SIGKILL a random worker in each run', await Promise.all(pending), kills, startedAt);
}

/** `runs` runs submitted together; after a random 0..maxDelayMs, SIGKILL of the Temporal dev server (the stack restarts it). */
export async function temporalKill(
  h: StackHandle,
  opts: { runs: number; kinds: RunKind[]; maxDelayMs: number; runTimeoutMs: number }
): Promise<ScenarioResult> {
  const startedAt = Date.now();
  const submitted = await Promise.all(
    Array.from({ length: opts.runs }, (_, i) => submit(h, opts.kinds[i % opts.kinds.length]))
  );
  await sleep(Math.random() * opts.maxDelayMs);
  const [temporal] = stackProcesses(h, /temporal server start-dev/);
  process.kill(temporal, 'SIGKILL');
  const checks = await Promise.all(submitted.map((r) => checkRun(h, r, opts.runTimeoutMs)));
  return summarise('SIGKILL the Temporal dev server in mid-run', checks, { temporal: 1 }, startedAt);
}

/**
 * `runs` submissions sent at once, each with its Idempotency-Key, and the API SIGKILLed while
 * they are in flight. Clients may see connection errors or 5xx, never another answer; each is
 * retried with its key once the stack has restarted the API, and must give the same run as a
 * first 202 did. Each model name then has exactly one run, and every run is checked as above.
 */
export async function apiKill(
  h: StackHandle,
  opts: { runs: number; kinds: RunKind[]; maxDelayMs: number; runTimeoutMs: number }
): Promise<ScenarioResult & { answers: Record<string, number>; replayMismatches: number; halfWritten: number }> {
  const startedAt = Date.now();
  const requests = Array.from({ length: opts.runs }, (_, i) => {
    const kind = opts.kinds[i % opts.kinds.length];
    return { kind, model: `chaos-${kind}-${randomUUID().slice(0, 8)}`, key: randomUUID() };
  });
  const [apiPid] = stackProcesses(h, /api\/server\.ts/);
  const inFlight = requests.map((r) => postRun(h, r.key, r.kind, r.model));
  await sleep(Math.random() * opts.maxDelayMs);
  process.kill(apiPid, 'SIGKILL');
  const first = await Promise.all(inFlight);
  const answers: Record<string, number> = {};
  for (const { status } of first) {
    const label = typeof status === 'number' ? (status >= 500 ? '5xx' : String(status)) : status;
    answers[label] = (answers[label] ?? 0) + 1;
  }
  const submitted = await Promise.all(requests.map((r) => submit(h, r.kind, r.model, r.key)));
  const replayMismatches = submitted.filter((s, i) => first[i].runId && first[i].runId !== s.runId).length;
  const checks = await Promise.all(submitted.map((r) => checkRun(h, r, opts.runTimeoutMs)));
  const call = api(h);
  const perModel = await Promise.all(
    requests.map(async (r) => ((await call('GET', `/v1/runs?model=${r.model}`)).items as unknown[]).length)
  );
  return {
    ...summarise('SIGKILL the API with run submissions in flight', checks, { api: 1 }, startedAt),
    answers,
    replayMismatches,
    halfWritten: perModel.filter((n) => n !== 1).length,
  };
}
