// `mlops monitor`: a model's drift per feature as a table, with a sparkline of the deciding
// score over the recent windows (oldest left), and pause/resume of its monitoring schedule.
import type { MonitoringJson, SchedulesPausedJson } from './api-types';
import { UsageError } from './config';
import { table } from './format';
import { need, str, type Ctx } from './main';

const SPARKS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled between the series' min and max (a flat series is all ▁). */
export function sparkline(values: (number | null)[]): string {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  return values
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      const i = hi > lo ? Math.round(((v - lo) / (hi - lo)) * (SPARKS.length - 1)) : 0;
      return SPARKS[i];
    })
    .join('');
}

const fmt = (v: number | undefined) =>
  v === undefined ? '-' : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : v.toFixed(3);

function showMonitoring(m: MonitoringJson): string {
  if (!m.latest)
    return `${m.model}: no monitoring report yet${m.schedule ? '' : ' (no schedule: set a policy with a "monitor" section)'}`;
  const l = m.latest;
  const history = [...m.history].reverse(); // oldest first, for the sparklines
  const series = (name: string) => history.map((h) => h.features.find((f) => f.name === name)?.score ?? null);
  const rows = l.features.map((f) => ({
    feature: f.name,
    method: f.method,
    score: fmt(f.score),
    threshold: fmt(f.threshold),
    drift: f.drifted ? 'DRIFT' : 'ok',
    missing: `${(f.missingRate * 100).toFixed(1)}%`,
    history: sparkline(series(f.name)),
  }));
  if (l.prediction) {
    rows.push({
      feature: `(prediction)`,
      method: l.prediction.method,
      score: fmt(l.prediction.score),
      threshold: fmt(l.prediction.threshold),
      drift: l.prediction.drifted ? 'DRIFT' : 'ok',
      missing: '-',
      history: sparkline(history.map((h) => h.prediction?.score ?? null)),
    });
  }
  const verdict = l.dataset
    ? `${l.dataset.driftedColumns}/${l.dataset.columns} features drifted: ${l.drifted ? 'DATASET DRIFT' : 'no dataset drift'}`
    : l.status;
  const quality = l.quality
    ? Object.entries(l.quality)
        .map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`)
        .join(', ')
    : 'not enough labels';
  const schedule = m.schedule
    ? m.schedule.paused
      ? `paused (${m.schedule.note ?? ''})`
      : `next ${m.schedule.nextRuns[0] ?? '-'}`
    : 'none';
  return [
    `model:    ${m.model} v${l.version ?? '?'}`,
    `window:   ${l.window.from} – ${l.window.to} (${l.rows} rows, ${m.history.length} window(s) shown)`,
    `verdict:  ${verdict}`,
    `quality:  ${quality}`,
    `schedule: ${schedule}`,
    `report:   GET /v1/models/${m.model}/monitoring/${l.window.to}/html`,
    '',
    table(rows, ['feature', 'method', 'score', 'threshold', 'drift', 'missing', 'history']),
  ].join('\n');
}

export async function monitor(ctx: Ctx, command: string | undefined, args: string[]): Promise<number> {
  const { http, flags } = ctx;
  switch (command) {
    case 'show': {
      const [name] = need(args, 1, 'monitor show MODEL');
      const m = (
        await http.request<MonitoringJson>('GET', `/v1/models/${encodeURIComponent(name)}/monitoring`, {
          query: { limit: str(flags.limit) ?? '30' },
        })
      ).body;
      ctx.out(m, () => showMonitoring(m));
      return 0;
    }
    case 'pause':
    case 'resume': {
      const [name] = need(args, 1, `monitor ${command} MODEL`);
      const note = str(flags.reason);
      const r = (
        await http.request<SchedulesPausedJson>(
          'POST',
          `/v1/models/${encodeURIComponent(name)}/monitoring/${command}`,
          {
            body: note ? { note } : {},
          }
        )
      ).body;
      ctx.out(r, () => `${r.model}: monitoring ${r.paused ? 'paused' : 'resumed'} (${r.note})`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "monitor ${command ?? ''}"; use show, pause or resume`);
  }
}
