// `mlops features`: apply a features file, list and show views, materialize a view over a time
// range with a progress bar until it ends. docs/features.md.
import { readFileSync } from 'node:fs';
import type {
  AppliedFeaturesJson,
  FeatureViewJson,
  FeatureViewSummaryJson,
  MaterializationJson,
  Page,
  StartedMaterializationJson,
} from './api-types';
import { UsageError } from './config';
import { ago, bar, table } from './format';
import { need, str, type Ctx } from './main';

function readJsonFile(file: string, readStdin?: () => string): unknown {
  const text = file === '-' ? (readStdin?.() ?? readFileSync(0, 'utf8')) : readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function progressLine(m: MaterializationJson): string {
  const total = m.partitionsTotal ?? 0;
  const fraction = total ? m.partitionsDone / total : m.status === 'succeeded' ? 1 : 0;
  return `${bar(fraction)} ${m.partitionsDone}/${total || '?'} partitions ${m.rows.toLocaleString('en-US')} rows`;
}

async function watch(ctx: Ctx, location: string): Promise<number> {
  const { http, io } = ctx;
  const interval = Math.max(0.2, Number(str(ctx.flags.interval) ?? '1')) * 1000;
  const sleep = io.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let last = '';
  for (;;) {
    const m = (await http.request<MaterializationJson>('GET', location)).body;
    const line = progressLine(m);
    if (ctx.json) {
      if (line !== last) io.stdout(JSON.stringify(m) + '\n');
    } else if (line !== last) io.stdout(io.isTTY ? `\r\x1b[2K${line}` : line + '\n');
    last = line;
    if (m.status !== 'running') {
      if (!ctx.json)
        io.stdout(`${io.isTTY ? '\n' : ''}${m.materializationId} ${m.status}${m.error ? `: ${m.error}` : ''}\n`);
      return m.status === 'succeeded' ? 0 : 3;
    }
    await sleep(interval);
  }
}

export async function features(ctx: Ctx, command: string | undefined, args: string[]): Promise<number> {
  const { http, flags } = ctx;
  switch (command) {
    case 'apply': {
      const [file] = need(args, 1, 'features apply FEATURES.json|-');
      const r = (
        await http.request<AppliedFeaturesJson>('POST', '/v1/features', { body: readJsonFile(file, ctx.io.readStdin) })
      ).body;
      ctx.out(r, () =>
        r.views.length === 0
          ? 'no views in the file'
          : r.views.map((v) => `${v.name}@v${v.version} ${v.hash} ${v.created ? 'created' : 'unchanged'}`).join('\n')
      );
      return 0;
    }
    case 'list': {
      const r = (await http.request<Pick<Page<FeatureViewSummaryJson>, 'items'>>('GET', '/v1/features')).body;
      ctx.out(r, () =>
        table(
          r.items.map((v) => ({
            view: v.ref,
            entity: v.entity.name,
            features: v.features.length,
            source: v.source.path,
            materialized: v.lastMaterialization ? ago(v.lastMaterialization.endedAt) : '-',
          })),
          ['view', 'entity', 'features', 'source', 'materialized']
        )
      );
      return 0;
    }
    case 'show': {
      const [name] = need(args, 1, 'features show VIEW');
      const v = (await http.request<FeatureViewJson>('GET', `/v1/features/${encodeURIComponent(name)}`)).body;
      const m = v.lastMaterialization;
      ctx.out(v, () =>
        [
          `view:      ${v.ref} (${v.hash})`,
          `entity:    ${v.entity.name} (${v.entity.keys.join(', ')})`,
          `source:    ${v.source.path}, event time '${v.timestamp}', ttl ${v.ttlMs / 3_600_000}h`,
          `versions:  ${v.versions.map((x) => `v${x.version}`).join(' ')}`,
          `last mat.: ${m ? `${m.start} .. ${m.end}, ${m.partitions} partitions, ${m.rows} rows` : '-'}`,
          `freshness: ${v.freshness ? `materialized until ${v.freshness.materializedUntil}` : 'never materialized'}`,
          '',
          table(
            v.features.map((f) => ({
              feature: f.name,
              kind: f.agg && f.windowMs ? `${f.agg} ${f.windowMs / 86_400_000}d` : f.kind,
              columns: f.columns.join(',') || '-',
            })),
            ['feature', 'kind', 'columns']
          ),
        ].join('\n')
      );
      return 0;
    }
    case 'materialize': {
      const [name] = need(args, 1, 'features materialize VIEW --start T --end T [--version N] [--partition 1d]');
      const start = str(flags.start);
      const end = str(flags.end);
      if (!start || !end) throw new UsageError('give the range: --start 2026-01-01 --end 2026-07-01');
      const version = str(flags.version);
      const body = {
        start,
        end,
        ...(version ? { version: Number(version) } : {}),
        ...(str(flags.partition) ? { partition: str(flags.partition) } : {}),
        ...(str(flags.parallelism) ? { parallelism: Number(str(flags.parallelism)) } : {}),
      };
      const r = (
        await http.request<StartedMaterializationJson>('POST', `/v1/features/${encodeURIComponent(name)}/materialize`, {
          body,
        })
      ).body;
      if (!ctx.json) ctx.io.stdout(`${r.materializationId}: ${r.view}@v${r.version}\n`);
      return watch(ctx, r.location);
    }
    default:
      throw new UsageError(`unknown features command "${command ?? ''}"`);
  }
}
