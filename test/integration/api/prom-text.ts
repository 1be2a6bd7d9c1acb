// A strict parser of the Prometheus text exposition format (0.0.4), with the lint rules
// `promtool check metrics` applies that matter here: counters end in _total, histograms
// have _bucket (with le, ending at +Inf), _sum and _count, no series repeats.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help?: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`);
const LABEL_RE = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, line: number): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value ${s}`);
  return Number(s);
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  if (families.has(sampleName)) return families.get(sampleName);
  for (const suffix of ['_bucket', '_sum', '_count', '_created']) {
    if (sampleName.endsWith(suffix)) {
      const f = families.get(sampleName.slice(0, -suffix.length));
      if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
    }
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('exposition must end with a newline');
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // plain comment
      const [, kind, name, rest] = m;
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`line ${n}: bad metric name ${name}`);
      const fam = families.get(name) ?? { name, type: 'untyped', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${n}: unknown type ${rest}`);
        if (fam.samples.length) throw new Error(`line ${n}: TYPE after samples of ${name}`);
        fam.type = rest;
      } else {
        if (fam.help !== undefined) throw new Error(`line ${n}: second HELP for ${name}`);
        fam.help = rest;
      }
      families.set(name, fam);
      return;
    }
    const m = SAMPLE_RE.exec(raw);
    if (!m) throw new Error(`line ${n}: not a sample: ${raw}`);
    const [, name, labelText = '', value] = m;
    const labels: Record<string, string> = {};
    let rest = labelText;
    while (rest.length) {
      const lm = LABEL_RE.exec(rest);
      if (!lm) throw new Error(`line ${n}: bad labels {${labelText}}`);
      if (lm[1] in labels) throw new Error(`line ${n}: repeated label ${lm[1]}`);
      labels[lm[1]] = lm[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      rest = rest.slice(lm[0].length);
    }
    const series = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`;
    if (seenSeries.has(series)) throw new Error(`line ${n}: repeated series ${series}`);
    seenSeries.add(series);
    let fam = familyOf(name, families);
    if (!fam) {
      fam = { name, type: 'untyped', samples: [] };
      families.set(name, fam);
    }
    fam.samples.push({ name, labels, value: parseValue(value, n) });
  });
  for (const fam of families.values()) lint(fam);
  return families;
}

function lint(fam: Family): void {
  if (fam.type === 'counter' && !fam.name.endsWith('_total'))
    throw new Error(`counter ${fam.name} should end in _total`);
  if (fam.type !== 'counter' && fam.name.endsWith('_total')) throw new Error(`non-counter ${fam.name} ends in _total`);
  if (fam.type !== 'histogram' && fam.type !== 'summary' && /_(bucket|count|sum)$/.test(fam.name)) {
    throw new Error(`${fam.name}: _bucket/_count/_sum suffixes are for histograms and summaries`);
  }
  if (fam.type === 'histogram') {
    const groups = new Map<string, { inf?: number; count?: number; sum?: boolean }>();
    for (const s of fam.samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      const g = groups.get(key) ?? {};
      if (s.name === `${fam.name}_bucket`) {
        if (le === undefined) throw new Error(`${fam.name}_bucket without le`);
        if (le === '+Inf') g.inf = s.value;
      } else if (s.name === `${fam.name}_count`) g.count = s.value;
      else if (s.name === `${fam.name}_sum`) g.sum = true;
      else throw new Error(`${s.name} is not part of histogram ${fam.name}`);
      groups.set(key, g);
    }
    for (const [key, g] of groups) {
      if (g.inf === undefined || g.count === undefined || !g.sum)
        throw new Error(`histogram ${fam.name}${key} incomplete`);
      if (g.inf !== g.count) throw new Error(`histogram ${fam.name}${key}: +Inf bucket != count`);
    }
  }
}
