#!/usr/bin/env node
// `mlops`: command-line client of the mlops HTTP API. Run `mlops help`.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { resolveConfig, UsageError, type CliConfig } from './config';
import { DEFAULT_INFERENCE_URL, predict } from './predict';
import { ApiError, createHttp, type Http } from './http';
import { ago, bar, duration, metricsLine, table } from './format';
import { batch } from './batch';
import { isTerminalStatus } from '../lib/workflow-safe/statuses';
import { deploy } from './deploy';
import { monitor } from './monitor';
import { policy } from './policy';
import { features } from './features';
import type {
  AliasMovedJson,
  DecisionJson,
  MetricPointJson,
  ModelDetailJson,
  ModelJson,
  Page,
  RunDetailJson,
  RunEventJson,
  RunSummaryJson,
  StartedRunJson,
  VersionJson,
  WhoamiJson,
} from './api-types';

export interface CliIO {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is a terminal (watch redraws one line per stage). */
  isTTY?: boolean;
  fetch?: typeof fetch;
  readStdin?: () => string;
  sleep?: (ms: number) => Promise<void>;
}

export const HELP = `mlops: command-line client of the mlops API

Usage: mlops <group> <command> [args] [--json] [--url URL] [--token-file FILE]

Runs
  runs start SPEC.json|-      start a run from a spec file (or stdin); or give
                              --model M --dataset NAME|PATH --target COL [--region R]
                              [--idempotency-key K] [--watch]
  runs list                   [--status S] [--model M] [--stage S] [--from T] [--to T]
                              [--limit N] [--cursor C] [--all]
  runs show ID                stored history merged with live state
  runs watch ID               live progress per stage until the run ends
                              [--interval SECONDS]
  runs approve ID             [--comment TEXT]   (approver role; not your own run)
  runs reject ID              [--comment TEXT]
  runs cancel ID              [--reason TEXT]
  runs events ID              step events with attempts and durations

Models
  models list
  models show NAME            [--version N]
  models promote NAME VERSION [--alias production] [--reason TEXT]   (admin role)

Batch predictions (docs/batch-inference.md)
  batch start --model M --input FILE.csv   score a CSV under the datasets root
                              [--version N | --alias A] [--format csv|jsonl]
                              [--id-column C] [--max-error-rate R] [--watch]
  batch show ID               progress: rows done/total, rows/s
  batch watch ID              progress bar until the batch ends
  batch download ID           [--errors] [-o FILE]   (stdout without -o)
  batch cancel ID
Deployments (docs/deployments.md; approver role to start and override)
  deploy start MODEL --version N  [--strategy canary|blue-green|shadow] [--steps 5,25,50,100]
                              [--bake 10m] [--check-every 10s] [--max-error-rate R]
                              [--max-p99-ms MS] [--max-prediction-shift JS] [--min-requests N]
                              [--rollback-window 10m] [--inconclusive-after 30m] [--watch]
  deploy list                 [--model M] [--status STATE] [--limit N]
  deploy show ID              steps, weights and every decision with its numbers
  deploy watch ID             the weight and the gates live, until the rollout ends
  deploy pause|resume|promote|abort ID --reason TEXT   (resume/promote: not your own rollout)
Monitoring (docs/monitoring.md)
  monitor show MODEL          drift per feature with a sparkline over recent windows
                              [--limit N windows]
  monitor pause MODEL         [--reason TEXT]   pause its monitoring schedule
  monitor resume MODEL        [--reason TEXT]
Lifecycle policy (docs/retraining.md)
  policy set MODEL POLICY.json|-   monitoring and retraining triggers (scientist or admin)
  policy show MODEL           the policy, its retrain schedules and latest decisions
  policy pause MODEL          [--reason TEXT]   pause its retrain schedules
  policy resume MODEL         [--reason TEXT]

Feature store (docs/features.md)
  features apply FILE.json|-  entities and feature views; each view versioned by content
  features list               latest version of every view
  features show VIEW          versions, schema, freshness, last materialization
  features materialize VIEW --start T --end T   offline partitions + online store,
                              with a progress bar [--version N] [--partition 1d]
                              [--parallelism N]
Predictions (inference server: --inference-url, MLOPS_INFERENCE_URL, http://127.0.0.1:8090)
  predict MODEL --rows FILE.jsonl|-   one JSON object per line, keyed by column name;
                              prints the label and class probabilities per row
                              [--version N]   (predictor, scientist, approver or admin token)

Other
  whoami                      the token in use
  config                      where the URL and token come from

Configuration (first match wins)
  API URL  --url, MLOPS_API_URL, "url" in the config file, http://127.0.0.1:8080
  token    --token-file, MLOPS_TOKEN, MLOPS_TOKEN_FILE, "token"/"tokenFile" in the
           config file, then <MLOPS_DATA_DIR or ./data>/admin-token
  config file: $MLOPS_CONFIG or ~/.config/mlops/config.json

Exit codes: 0 ok, 1 the API refused or failed, 2 usage error, 3 watched run, batch or rollout did not succeed.
`;

export interface Ctx {
  http: Http;
  io: CliIO;
  json: boolean;
  flags: Record<string, string | boolean | undefined>;
  out(value: unknown, human: () => string): void;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        url: { type: 'string' },
        'token-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        status: { type: 'string' },
        model: { type: 'string' },
        stage: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        all: { type: 'boolean' },
        dataset: { type: 'string' },
        target: { type: 'string' },
        region: { type: 'string' },
        'idempotency-key': { type: 'string' },
        watch: { type: 'boolean' },
        interval: { type: 'string' },
        comment: { type: 'string' },
        reason: { type: 'string' },
        version: { type: 'string' },
        alias: { type: 'string' },
        input: { type: 'string' },
        format: { type: 'string' },
        'id-column': { type: 'string' },
        'max-error-rate': { type: 'string' },
        errors: { type: 'boolean' },
        output: { type: 'string', short: 'o' },
        rows: { type: 'string' },
        'inference-url': { type: 'string' },
        strategy: { type: 'string' },
        steps: { type: 'string' },
        bake: { type: 'string' },
        'check-every': { type: 'string' },
        'max-p99-ms': { type: 'string' },
        'max-prediction-shift': { type: 'string' },
        'min-requests': { type: 'string' },
        'rollback-window': { type: 'string' },
        'inconclusive-after': { type: 'string' },
        start: { type: 'string' },
        end: { type: 'string' },
        partition: { type: 'string' },
        parallelism: { type: 'string' },
      },
    });
  } catch (err) {
    io.stderr(`mlops: ${(err as Error).message}\nRun "mlops help".\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [group, command, ...args] = positionals;
  if (values.help || !group || group === 'help') {
    io.stdout(HELP);
    return 0;
  }
  try {
    const cfg = resolveConfig(io.env, { url: values.url, tokenFile: values['token-file'] });
    const json = Boolean(values.json);
    const ctx: Ctx = {
      http: createHttp(cfg, io.fetch),
      io,
      json,
      flags: values,
      out(value, human) {
        io.stdout(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
      },
    };
    if (group === 'config') {
      ctx.out({ url: cfg.url, tokenSource: cfg.tokenSource ?? null, configFile: cfg.configFile ?? null }, () =>
        [
          `url:          ${cfg.url}`,
          `token from:   ${cfg.tokenSource ?? '(none)'}`,
          `config file:  ${cfg.configFile ?? '(none)'}`,
        ].join('\n')
      );
      return 0;
    }
    if (group === 'whoami') {
      const me = (await ctx.http.request<WhoamiJson>('GET', '/v1/whoami')).body;
      ctx.out(me, () => `${me.subject} (${me.role}) via token ${me.tokenId} "${me.name}"`);
      return 0;
    }
    if (group === 'predict') return await predictCommand(ctx, cfg, [command, ...args].filter(Boolean));
    if (group === 'runs') return await runs(ctx, command, args);
    if (group === 'models') return await models(ctx, command, args);
    if (group === 'batch') return await batch(ctx, command, args);
    if (group === 'deploy') return await deploy(ctx, command, args);
    if (group === 'monitor') return await monitor(ctx, command, args);
    if (group === 'policy') return await policy(ctx, command, args);
    if (group === 'features') return await features(ctx, command, args);
    throw new UsageError(`unknown command group "${group}"`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`mlops: ${err.message}\nRun "mlops help".\n`);
      return 2;
    }
    if (err instanceof ApiError) {
      if (values.json && err.problem) io.stdout(JSON.stringify(err.problem, null, 2) + '\n');
      io.stderr(`mlops: ${err.message}\n`);
      return 1;
    }
    io.stderr(`mlops: ${(err as Error).message}\n`);
    return 1;
  }
}

async function predictCommand(ctx: Ctx, cfg: CliConfig, args: string[]): Promise<number> {
  const usage = 'predict MODEL --rows FILE.jsonl|- [--version N]';
  const [model] = need(args, 1, usage);
  const file = str(ctx.flags.rows);
  if (!file) throw new UsageError(`give the rows: mlops ${usage}`);
  const version = str(ctx.flags.version);
  if (version !== undefined && !/^[1-9]\d*$/.test(version))
    throw new UsageError('--version must be a positive integer');
  const url = (str(ctx.flags['inference-url']) || ctx.io.env.MLOPS_INFERENCE_URL || DEFAULT_INFERENCE_URL).replace(
    /\/+$/,
    ''
  );
  const http = createHttp({ url, token: cfg.token }, ctx.io.fetch, {
    what: 'the inference server',
    variable: 'MLOPS_INFERENCE_URL',
  });
  const result = await predict(http, { model, version, file, readStdin: ctx.io.readStdin });
  ctx.out(result.json, () => result.human);
  return 0;
}

export function need(args: string[], n: number, usage: string): string[] {
  if (args.length < n) throw new UsageError(`usage: mlops ${usage}`);
  if (args.length > n) throw new UsageError(`unexpected argument "${args[n]}"; usage: mlops ${usage}`);
  return args;
}

export function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A numeric flag, or undefined when absent. */
export function number(flag: string | boolean | undefined, name: string): number | undefined {
  const s = str(flag);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, not "${s}"`);
  return n;
}

async function runs(ctx: Ctx, command: string | undefined, args: string[]): Promise<number> {
  const { http, flags } = ctx;
  switch (command) {
    case 'start': {
      let spec: unknown;
      if (args.length) {
        const [file] = need(args, 1, 'runs start SPEC.json|-');
        const text = file === '-' ? (ctx.io.readStdin ?? (() => readFileSync(0, 'utf8')))() : readSpec(file);
        try {
          spec = JSON.parse(text);
        } catch {
          throw new UsageError(`${file === '-' ? 'stdin' : file} is not valid JSON`);
        }
      } else {
        const model = str(flags.model);
        const dataset = str(flags.dataset);
        const target = str(flags.target);
        if (!model || !dataset || !target) {
          throw new UsageError('give a spec file, or --model, --dataset and --target');
        }
        const region = str(flags.region);
        spec = {
          model,
          dataset: /[./]/.test(dataset) ? { path: dataset } : { name: dataset },
          target,
          ...(region ? { region } : {}),
        };
      }
      const key = str(flags['idempotency-key']);
      const res = await http.request<StartedRunJson>('POST', '/v1/runs', {
        body: spec,
        headers: key ? { 'Idempotency-Key': key } : undefined,
      });
      const replayed = res.headers.get('idempotent-replayed') === 'true';
      ctx.out({ ...res.body, replayed }, () => `${replayed ? 'already started' : 'started'} ${res.body.runId}`);
      if (flags.watch) return watch(ctx, res.body.runId);
      return 0;
    }
    case 'list': {
      need(args, 0, 'runs list [filters]');
      const query = {
        status: str(flags.status),
        model: str(flags.model),
        stage: str(flags.stage),
        from: str(flags.from),
        to: str(flags.to),
        limit: str(flags.limit),
        cursor: str(flags.cursor),
      };
      const items: RunSummaryJson[] = [];
      let next: string | null = null;
      do {
        const res: { body: Page<RunSummaryJson> } = await http.request<Page<RunSummaryJson>>('GET', '/v1/runs', {
          query: { ...query, ...(next ? { cursor: next } : {}) },
        });
        const page = res.body;
        items.push(...page.items);
        next = page.nextCursor;
      } while (flags.all && next);
      ctx.out({ items, nextCursor: next }, () => {
        const rows = items.map((r) => ({
          run: r.runId,
          model: r.model.version ? `${r.model.name} v${r.model.version}` : r.model.name,
          status: r.status,
          stage: r.stage,
          created: ago(r.createdAt),
          took: duration(r.durationMs),
          by: r.createdBy,
        }));
        return (
          table(rows, ['run', 'model', 'status', 'stage', 'created', 'took', 'by']) +
          (next ? `\nmore: --cursor ${next}` : '')
        );
      });
      return 0;
    }
    case 'show': {
      const [id] = need(args, 1, 'runs show ID');
      const r = (await http.request<RunDetailJson>('GET', `/v1/runs/${encodeURIComponent(id)}`)).body;
      ctx.out(r, () => showRun(r));
      return 0;
    }
    case 'events': {
      const [id] = need(args, 1, 'runs events ID');
      const r = (
        await http.request<Page<RunEventJson>>('GET', `/v1/runs/${encodeURIComponent(id)}/events`, {
          query: { limit: 1000 },
        })
      ).body;
      ctx.out(r, () =>
        table(
          r.items.map((e) => ({
            step: e.step,
            attempt: e.attempt,
            status: e.status,
            queue: e.queue,
            took: duration(e.durationMs),
            error: e.error?.message,
          })),
          ['step', 'attempt', 'status', 'queue', 'took', 'error']
        )
      );
      return 0;
    }
    case 'watch': {
      const [id] = need(args, 1, 'runs watch ID');
      return watch(ctx, id);
    }
    case 'approve':
    case 'reject': {
      const [id] = need(args, 1, `runs ${command} ID [--comment TEXT]`);
      const r = (
        await http.request<DecisionJson>('POST', `/v1/runs/${encodeURIComponent(id)}/approval`, {
          body: { decision: command, ...(str(flags.comment) ? { comment: str(flags.comment) } : {}) },
        })
      ).body;
      ctx.out(r, () => `${command === 'approve' ? 'approved' : 'rejected'} ${id} as ${r.approver}`);
      return 0;
    }
    case 'cancel': {
      const [id] = need(args, 1, 'runs cancel ID [--reason TEXT]');
      const r = (
        await http.request('POST', `/v1/runs/${encodeURIComponent(id)}/cancel`, {
          body: str(flags.reason) ? { reason: str(flags.reason) } : {},
        })
      ).body;
      ctx.out(r, () => `cancellation requested for ${id}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown runs command "${command ?? ''}"`);
  }
}

export function readSpec(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
}

function showRun(r: RunDetailJson): string {
  const lines = [
    `run:      ${r.runId}`,
    `model:    ${r.model.name}${r.model.version ? ` v${r.model.version}` : ''}`,
    `status:   ${r.status}   stage: ${r.stage}`,
    `started:  ${r.createdAt} by ${r.createdBy ?? '-'}`,
  ];
  if (r.endedAt) lines.push(`ended:    ${r.endedAt} (${duration(r.durationMs)})`);
  const pending = r.live?.pendingApproval ?? r.pendingApproval;
  if (pending && r.status === 'awaiting_approval') lines.push(`approval: waiting until ${pending.deadline}`);
  if (r.approval)
    lines.push(
      `decision: ${r.approval.decision} by ${r.approval.approver}${r.approval.comment ? ` ("${r.approval.comment}")` : ''}`
    );
  if (r.metrics) lines.push(`metrics:  ${metricsLine(r.metrics)}`);
  if (r.gate && !r.gate.passed) lines.push(`gate:     ${r.gate.reason}`);
  if (r.error) lines.push(`error:    ${r.error.message}`);
  return lines.join('\n');
}

/** Polls the run: one line per stage (redrawn in place on a terminal), an epoch bar while training. */
async function watch(ctx: Ctx, runId: string): Promise<number> {
  const { http, io } = ctx;
  const interval = Math.max(0.2, Number(str(ctx.flags.interval) ?? '1')) * 1000;
  const sleep = io.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let lastStage = '';
  let lastLine = '';
  for (;;) {
    const r = (await http.request<RunDetailJson>('GET', `/v1/runs/${encodeURIComponent(runId)}`)).body;
    let detail = '';
    if (r.stage === 'train') {
      const m = (
        await http.request<{ items: MetricPointJson[] }>('GET', `/v1/runs/${encodeURIComponent(runId)}/metrics`, {
          query: { series: 'train' },
        })
      ).body;
      const epochs = r.spec?.trainer?.epochs as number | undefined;
      const last = m.items[m.items.length - 1];
      if (epochs && last)
        detail = `${bar((last.step + 1) / epochs)} epoch ${last.step + 1}/${epochs} ${metricsLine(last.values)}`;
    } else if (r.status === 'awaiting_approval') {
      const p = r.live?.pendingApproval;
      detail = p
        ? `waiting for an approver until ${p.deadline} (mlops runs approve ${runId})`
        : 'waiting for an approver';
    } else if (r.live?.progress) {
      detail = bar(r.live.progress.fraction);
    }
    const line = `${r.stage.padEnd(10)} ${r.status.padEnd(17)} ${detail}`.trimEnd();
    if (ctx.json) {
      if (line !== lastLine) io.stdout(JSON.stringify({ runId, status: r.status, stage: r.stage, detail }) + '\n');
    } else if (io.isTTY) {
      if (r.stage !== lastStage && lastStage) io.stdout('\n');
      if (line !== lastLine) io.stdout(`\r\x1b[2K${line}`);
    } else if (line !== lastLine) {
      io.stdout(line + '\n');
    }
    lastStage = r.stage;
    lastLine = line;
    if (isTerminalStatus(r.status)) {
      if (!ctx.json)
        io.stdout((io.isTTY ? '\n' : '') + `${runId} ${r.status}${r.error ? `: ${r.error.message}` : ''}\n`);
      return r.status === 'succeeded' ? 0 : 3;
    }
    await sleep(interval);
  }
}

async function models(ctx: Ctx, command: string | undefined, args: string[]): Promise<number> {
  const { http, flags } = ctx;
  switch (command) {
    case 'list': {
      need(args, 0, 'models list');
      const r = (
        await http.request<Page<ModelJson>>('GET', '/v1/models', {
          query: { limit: str(flags.limit), cursor: str(flags.cursor) },
        })
      ).body;
      ctx.out(r, () =>
        table(
          r.items.map((m) => ({
            name: m.name,
            latest: m.latestVersion,
            aliases:
              Object.entries(m.aliases)
                .map(([a, h]) => `${a}=v${h.version}`)
                .join(' ') || '-',
            updated: ago(m.updatedAt),
          })),
          ['name', 'latest', 'aliases', 'updated']
        )
      );
      return 0;
    }
    case 'show': {
      const [name] = need(args, 1, 'models show NAME [--version N]');
      const version = str(flags.version);
      if (version) {
        const v = (
          await http.request<VersionJson>(
            'GET',
            `/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`
          )
        ).body;
        ctx.out(v, () =>
          [
            `model:    ${v.name} v${v.version} (${v.status})`,
            `run:      ${v.runId}`,
            `aliases:  ${v.aliases.join(', ') || '-'}`,
            `metrics:  ${metricsLine(v.metrics)}`,
            `dataset:  ${v.lineage?.datasetSource ?? '-'} sha256 ${v.lineage?.datasetSha256 ?? '-'}`,
            ...Object.entries(v.artifacts ?? {}).map(
              ([role, a]) =>
                `artifact: ${role.padEnd(10)} ${(a as { sha256: string; bytes: number }).sha256} ${(a as { bytes: number }).bytes} bytes`
            ),
          ].join('\n')
        );
        return 0;
      }
      const m = (await http.request<ModelDetailJson>('GET', `/v1/models/${encodeURIComponent(name)}`)).body;
      ctx.out(m, () =>
        [
          `model:    ${m.name} (latest v${m.latestVersion})`,
          `aliases:  ${
            Object.entries(m.aliases)
              .map(([a, h]) => `${a}=v${(h as { version: number }).version}`)
              .join(' ') || '-'
          }`,
          '',
          table(
            m.versions.map((v) => ({
              version: v.version,
              status: v.status,
              aliases: v.aliases.join(',') || '-',
              run: v.runId,
              metrics: metricsLine(v.metrics),
            })),
            ['version', 'status', 'aliases', 'run', 'metrics']
          ),
        ].join('\n')
      );
      return 0;
    }
    case 'promote': {
      const [name, version] = need(args, 2, 'models promote NAME VERSION [--alias production] [--reason TEXT]');
      if (!/^[1-9][0-9]*$/.test(version)) throw new UsageError(`VERSION must be a positive integer, got "${version}"`);
      const alias = str(flags.alias) ?? 'production';
      const r = (
        await http.request<AliasMovedJson>(
          'PUT',
          `/v1/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`,
          {
            body: { version: Number(version), ...(str(flags.reason) ? { reason: str(flags.reason) } : {}) },
          }
        )
      ).body;
      ctx.out(r, () =>
        r.moved
          ? `${name}: ${alias} -> v${version}${r.previous ? ` (was v${r.previous.version})` : ''}`
          : `${name}: ${alias} already points at v${version}`
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown models command "${command ?? ''}"`);
  }
}

/** Runs the CLI on this process's argv and streams; sets the exit code. */
export function runFromProcess(): void {
  runCli(process.argv.slice(2), {
    env: process.env,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // runCli reports every expected failure itself; this is a bug's last word, not a silent exit.
      process.stderr.write(
        `mlops: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`
      );
      process.exitCode = 1;
    }
  );
}

if (require.main === module) runFromProcess();
