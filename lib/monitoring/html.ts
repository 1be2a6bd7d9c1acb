// The HTML artifact of one monitoring window: a self-contained page (inline CSS and SVG, no
// scripts, no CDN, no external assets) with a summary table and, per feature and for the
// predictions, the reference and current histograms as shares on the same bins. It opens from
// the artifact store offline and under a strict Content-Security-Policy.
import type { ColumnDrift } from './drift';

export interface HtmlReportInput {
  model: string;
  version: number | null;
  window: { from: Date; to: Date };
  status: string;
  rows: number;
  drifted: boolean;
  dataset: { driftedColumns: number; columns: number; share: number; driftShare: number } | null;
  features: ColumnDrift[];
  prediction: ColumnDrift | null;
  quality: Record<string, number> | null;
}

const W = 560;
const H = 180;
const PAD = 28;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const num = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v)
    ? '–'
    : Number.isInteger(v) && Math.abs(v) < 1e6
      ? String(v)
      : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3)
        ? v.toExponential(2)
        : v.toFixed(3);

function shares(counts: number[]): number[] {
  const total = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => (total ? c / total : 0));
}

/** Grouped bars, reference then current, per bin; bin labels in <title> so hovering names them. */
export function histogramSvg(c: ColumnDrift, kind: 'feature' | 'prediction'): string {
  const r = shares(c.histogram.reference);
  const cur = shares(c.histogram.current);
  const top = Math.max(...r, ...cur, 1e-9);
  const n = r.length;
  const slot = (W - 2 * PAD) / n;
  const bar = Math.max(slot / 2 - 0.5, 0.5);
  const y = (v: number) => H - PAD - (v / top) * (H - 2 * PAD);
  const bars: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = PAD + i * slot;
    const label = escapeHtml(c.histogram.labels[i] ?? '');
    bars.push(
      `<rect class="ref" x="${x.toFixed(1)}" y="${y(r[i]).toFixed(1)}" width="${bar.toFixed(1)}" height="${(H - PAD - y(r[i])).toFixed(1)}"><title>${label}: reference ${(r[i] * 100).toFixed(1)}%</title></rect>`,
      `<rect class="cur" x="${(x + bar).toFixed(1)}" y="${y(cur[i]).toFixed(1)}" width="${bar.toFixed(1)}" height="${(H - PAD - y(cur[i])).toFixed(1)}"><title>${label}: current ${(cur[i] * 100).toFixed(1)}%</title></rect>`
    );
  }
  const name = escapeHtml(c.name);
  return [
    `<svg class="chart ${kind}" data-column="${name}" role="img" aria-label="${name}: reference and current histogram" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">`,
    `<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#888"/>`,
    `<text x="${PAD}" y="${H - 8}" font-size="10">${escapeHtml(c.histogram.labels[0] ?? '')}</text>`,
    `<text x="${W - PAD}" y="${H - 8}" font-size="10" text-anchor="end">${escapeHtml(c.histogram.labels[n - 1] ?? '')}</text>`,
    `<text x="${PAD}" y="14" font-size="10">max share ${(top * 100).toFixed(1)}%</text>`,
    ...bars,
    '</svg>',
  ].join('');
}

function section(c: ColumnDrift, heading: string, kind: 'feature' | 'prediction'): string {
  const stats = Object.entries(c.stats)
    .map(([k, v]) => `${escapeHtml(k)} ${num(v)}`)
    .join(' · ');
  return `<section class="column ${c.drifted ? 'drifted' : ''}"><h2>${escapeHtml(heading)} <small>${c.type}, ${c.method} ${num(c.score)} (threshold ${num(c.threshold)}) — ${c.drifted ? 'DRIFTED' : 'no drift'}</small></h2>
<p>${stats}<br>rows ${c.count} · missing ${(c.missingRate * 100).toFixed(1)}% (reference ${(c.referenceMissingRate * 100).toFixed(1)}%) · out of range ${(c.outOfRangeRate * 100).toFixed(1)}%</p>
${histogramSvg(c, kind)}</section>`;
}

export function renderReportHtml(r: HtmlReportInput): string {
  const title = `Monitoring: ${r.model}${r.version === null ? '' : ` v${r.version}`}`;
  const rows = r.features
    .map(
      (f) =>
        `<tr class="${f.drifted ? 'drifted' : ''}"><td>${escapeHtml(f.name)}</td><td>${f.type}</td><td>${f.method}</td><td>${num(f.score)}</td><td>${num(f.threshold)}</td><td>${f.drifted ? 'yes' : 'no'}</td><td>${(f.missingRate * 100).toFixed(1)}%</td><td>${(f.outOfRangeRate * 100).toFixed(1)}%</td></tr>`
    )
    .join('\n');
  const quality = r.quality
    ? `<p>Quality on labelled rows: ${Object.entries(r.quality)
        .map(([k, v]) => `${escapeHtml(k)} ${num(v)}`)
        .join(' · ')}</p>`
    : '<p>Quality: not enough labels in this window.</p>';
  const verdict = r.dataset
    ? `${r.dataset.driftedColumns} of ${r.dataset.columns} feature(s) drifted (share ${num(r.dataset.share)}, dataset drift at ${num(r.dataset.driftShare)}): <b>${r.drifted ? 'DATASET DRIFTED' : 'no dataset drift'}</b>`
    : `status ${escapeHtml(r.status)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
tr.drifted td{background:#fde8e8}section.column{margin:18px 0}section.drifted h2{color:#b00}
h2{font-size:16px;margin:4px 0}h2 small{font-weight:normal;color:#555}
rect.ref{fill:#7a9cc6}rect.cur{fill:#e08a3c}.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>Window ${r.window.from.toISOString()} – ${r.window.to.toISOString()} · ${r.rows} logged row(s) · ${verdict}</p>
${quality}
<p class="legend"><span style="background:#7a9cc6"></span>reference (training split; predictions on the test split)<span style="background:#e08a3c"></span>current window</p>
<table><thead><tr><th>feature</th><th>type</th><th>method</th><th>score</th><th>threshold</th><th>drifted</th><th>missing</th><th>out of range</th></tr></thead><tbody>
${rows}
</tbody></table>
${r.features.map((f) => section(f, f.name, 'feature')).join('\n')}
${r.prediction ? section(r.prediction, `prediction (${r.prediction.name})`, 'prediction') : ''}
</body></html>
`;
}
