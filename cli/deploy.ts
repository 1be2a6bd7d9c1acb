// `mlops deploy`: start a rollout of an approved version, list and show deployment records, watch
// the weight and the gates live, and the human overrides (pause, resume, promote now, abort).
import type {
  DeploymentDetailJson,
  DeploymentJson,
  DeploymentOverrideJson,
  Page,
  StartedDeploymentJson,
} from './api-types';
import { UsageError } from './config';
import { bar } from './format';
import { need, number, str, type Ctx } from './main';
import { OVERRIDE_ACTIONS } from '../lib/workflow-safe/deploy-override';
import { DEPLOYMENT_ENDED } from '../lib/workflow-safe/statuses';

/** The deploy block from the flags; absent flags take the documented defaults. */
function deployFlags(flags: Ctx['flags']): Record<string, unknown> {
  const gates = Object.fromEntries(
    (
      [
        ['maxErrorRate', 'max-error-rate'],
        ['maxP99Ms', 'max-p99-ms'],
        ['maxPredictionShift', 'max-prediction-shift'],
        ['minRequests', 'min-requests'],
      ] as const
    )
      .map(([field, flag]) => [field, number(flags[flag], flag)])
      .filter(([, v]) => v !== undefined)
  );
  const steps = str(flags.steps)
    ?.split(',')
    .map((s) => number(s.trim(), 'steps'));
  const durations = Object.fromEntries(
    (
      [
        ['bake', 'bake'],
        ['checkEvery', 'check-every'],
        ['rollbackWindow', 'rollback-window'],
        ['inconclusiveAfter', 'inconclusive-after'],
      ] as const
    )
      .map(([field, flag]) => [field, str(flags[flag])])
      .filter(([, v]) => v !== undefined)
  );
  return {
    ...(str(flags.strategy) ? { strategy: str(flags.strategy) } : {}),
    ...(steps ? { steps } : {}),
    ...durations,
    ...(Object.keys(gates).length ? { gates } : {}),
  };
}

type Gate = DeploymentJson['lastGate'];

function gateLine(g: Gate | undefined): string {
  if (!g) return 'gate: not evaluated yet';
  const c = g.candidate;
  const rate = c.errorRate === null ? '-' : `${(c.errorRate * 100).toFixed(2)}%`;
  const shift = g.shift === null ? '-' : g.shift.toFixed(3);
  const why = g.reasons.length ? ` (${g.reasons.join('; ')})` : '';
  return `gate: ${g.outcome} requests ${c.requests} errors ${rate} p99 ${c.p99Ms ?? '-'} ms shift ${shift}${why}`;
}

function statusLine(d: DeploymentDetailJson): string {
  const weight = d.live?.weight ?? d.weight;
  return `${d.state.padEnd(11)} ${bar(weight / 100)} ${String(weight).padStart(3)}% ${gateLine(d.live?.lastGate ?? d.lastGate)}`;
}

function showDeployment(d: DeploymentDetailJson): string {
  const lines = [
    `deployment: ${d.id}`,
    `model:      ${d.model} v${d.version} (stable v${d.stable ?? 'none'}), ${d.strategy}`,
    `state:      ${d.state}${d.reason ? `: ${d.reason}` : ''}`,
    `requested:  ${d.requestedBy}${d.runId ? ` (run ${d.runId})` : ''}`,
    `now:        ${statusLine(d)}`,
    'decisions:',
  ];
  for (const x of d.decisions) {
    const numbers = x.metrics ? ` [${gateLine(x.metrics)}]` : '';
    lines.push(
      `  ${x.at} ${x.kind} ${x.outcome} at ${x.weight ?? '-'}% by ${x.by}${x.reason ? `: ${x.reason}` : ''}${numbers}`
    );
  }
  return lines.join('\n');
}

async function watchDeployment(ctx: Ctx, id: string): Promise<number> {
  const { http, io } = ctx;
  const interval = Math.max(0.2, Number(str(ctx.flags.interval) ?? '1')) * 1000;
  const sleep = io.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let last = '';
  for (;;) {
    const d = (await http.request<DeploymentDetailJson>('GET', `/v1/deployments/${encodeURIComponent(id)}`)).body;
    const line = statusLine(d);
    if (line !== last) {
      if (ctx.json)
        io.stdout(
          JSON.stringify({
            id,
            state: d.state,
            weight: d.live?.weight ?? d.weight,
            gate: d.live?.lastGate ?? d.lastGate,
          }) + '\n'
        );
      else io.stdout(io.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
    }
    last = line;
    if (DEPLOYMENT_ENDED.includes(d.state)) {
      if (!ctx.json) io.stdout(`${io.isTTY ? '\n' : ''}${id} ${d.state}${d.reason ? `: ${d.reason}` : ''}\n`);
      return d.state === 'succeeded' ? 0 : 3;
    }
    await sleep(interval);
  }
}

export async function deploy(ctx: Ctx, command: string | undefined, args: string[]): Promise<number> {
  const { http, flags } = ctx;
  if (command && (OVERRIDE_ACTIONS as readonly string[]).includes(command)) {
    const [id] = need(args, 1, `deploy ${command} ID --reason TEXT`);
    const reason = str(flags.reason);
    if (!reason) throw new UsageError(`give --reason: every override is recorded with who and why`);
    const res = await http.request<DeploymentOverrideJson>(
      'POST',
      `/v1/deployments/${encodeURIComponent(id)}/${command}`,
      {
        body: { reason },
      }
    );
    ctx.out(res.body, () => `${command} of ${id} taken by the rollout (as ${res.body.actor})`);
    return 0;
  }
  switch (command) {
    case 'start': {
      const [model] = need(args, 1, 'deploy start MODEL --version N [--strategy S] ...');
      const version = number(flags.version, 'version');
      if (version === undefined) throw new UsageError('give --version N (an approved version of the model)');
      const res = await http.request<StartedDeploymentJson>('POST', '/v1/deployments', {
        body: { model, version, deploy: deployFlags(flags) },
      });
      ctx.out(res.body, () => `started ${res.body.id}: ${model} v${version} (mlops deploy watch ${res.body.id})`);
      if (flags.watch) return watchDeployment(ctx, res.body.id);
      return 0;
    }
    case 'list': {
      need(args, 0, 'deploy list [--model M] [--status STATE]');
      const params = new URLSearchParams();
      if (str(flags.model)) params.set('model', str(flags.model)!);
      if (str(flags.status)) params.set('state', str(flags.status)!);
      if (str(flags.limit)) params.set('limit', str(flags.limit)!);
      const page = (
        await http.request<Page<DeploymentJson>>('GET', `/v1/deployments${params.size ? `?${params}` : ''}`)
      ).body;
      ctx.out(page, () =>
        page.items.length === 0
          ? 'no deployments'
          : page.items.map((d) => `${d.id}  ${d.model} v${d.version} ${d.strategy} ${d.state} ${d.weight}%`).join('\n')
      );
      return 0;
    }
    case 'show': {
      const [id] = need(args, 1, 'deploy show ID');
      const d = (await http.request<DeploymentDetailJson>('GET', `/v1/deployments/${encodeURIComponent(id)}`)).body;
      ctx.out(d, () => showDeployment(d));
      return 0;
    }
    case 'watch': {
      const [id] = need(args, 1, 'deploy watch ID');
      return watchDeployment(ctx, id);
    }
    default:
      throw new UsageError(
        `unknown command "deploy ${command ?? ''}"; use start, list, show, watch, pause, resume, promote or abort`
      );
  }
}
