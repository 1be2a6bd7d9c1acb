// `mlops policy`: set a model's lifecycle policy from a JSON file (or stdin) and show it
// (PUT/GET /v1/models/{name}/policy; docs/retraining.md describes the fields), and pause or
// resume its retrain schedules (POST /v1/models/{name}/retraining/pause|resume).
import { readFileSync } from 'node:fs';
import type { ModelPolicy } from '../lib/spec/policy';
import type { PolicyJson, SchedulesPausedJson, SetPolicyJson } from './api-types';
import { UsageError } from './config';
import { need, readSpec, str, type Ctx } from './main';

function showPolicy(p: SetPolicyJson | PolicyJson): string {
  const policy = p.policy as ModelPolicy; // the stored policy, passed through as it is
  const r = policy.retrain;
  const lines = [`model:    ${p.model} (policy revision ${p.revision}, by ${p.updatedBy} at ${p.updatedAt})`];
  if (r) {
    const on = [
      r.schedule ? `schedule ${r.schedule}` : null,
      r.onData ? `data ${r.onData.dataset}` : null,
      r.onCommit ? `commits to ${r.onCommit.repository} ${r.onCommit.branch}` : null,
      r.onDrift ? 'drift' : null,
    ].filter(Boolean);
    lines.push(`retrain:  on ${on.join(', ') || 'nothing'}; cooldown ${r.cooldown} ms, at most ${r.maxPerDay}/day`);
  } else lines.push('retrain:  off');
  lines.push(
    `monitor:  ${policy.monitor ? `every ${policy.monitor.every} ms over ${policy.monitor.window} ms` : 'off'}`
  );
  if ('schedules' in p) {
    for (const s of p.schedules.retrain) lines.push(`schedule: ${s.scheduleId} ${s.state}`);
    lines.push(`schedule: monitor-${p.model} ${p.schedules.monitor}`);
  }
  for (const s of 'retrainSchedules' in p ? (p.retrainSchedules ?? []) : []) {
    const state = s.paused ? `paused (${s.note ?? ''})` : `active, next ${s.nextRuns[0] ?? 'none'}`;
    lines.push(`schedule: ${s.scheduleId} ${state}`);
  }
  for (const d of 'decisions' in p ? p.decisions.slice(0, 10) : []) {
    const kinds = d.triggers.map((t) => t.kind).join('+');
    lines.push(`decision: ${d.at} ${d.outcome.padEnd(8)} ${kinds.padEnd(12)} ${d.runId ?? ''} ${d.reason}`);
  }
  return lines.join('\n');
}

export async function policy(ctx: Ctx, command: string | undefined, args: string[]): Promise<number> {
  switch (command) {
    case 'set': {
      const [model, file] = need(args, 2, 'policy set MODEL POLICY.json|-');
      const text = file === '-' ? (ctx.io.readStdin ?? (() => readFileSync(0, 'utf8')))() : readSpec(file);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new UsageError(`${file === '-' ? 'stdin' : file} is not valid JSON`);
      }
      const r = (
        await ctx.http.request<SetPolicyJson>('PUT', `/v1/models/${encodeURIComponent(model)}/policy`, { body })
      ).body;
      ctx.out(r, () => showPolicy(r));
      return 0;
    }
    case 'show': {
      const [model] = need(args, 1, 'policy show MODEL');
      const r = (await ctx.http.request<PolicyJson>('GET', `/v1/models/${encodeURIComponent(model)}/policy`)).body;
      ctx.out(r, () => showPolicy(r));
      return 0;
    }
    case 'pause':
    case 'resume': {
      const [model] = need(args, 1, `policy ${command} MODEL`);
      const note = str(ctx.flags.reason);
      const path = `/v1/models/${encodeURIComponent(model)}/retraining/${command}`;
      const r = (await ctx.http.request<SchedulesPausedJson>('POST', path, { body: note ? { note } : {} })).body;
      ctx.out(
        r,
        () => `${r.model}: retraining ${r.paused ? 'paused' : 'resumed'} (${r.schedules.join(', ')}: ${r.note})`
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown policy command "${command ?? ''}"; use set, show, pause or resume`);
  }
}
