// Point-in-time join benchmark, mlops against Feast, on the same generated data in one run:
// labels (entity, label time) against a feature history, 30-day TTL. Each join runs in a child
// process of its own so its peak RSS is its own. Prints JSON (also bench/results/features-pit-join-<labels>x<features>.json)
// and a table, and compares the two outputs row by row (any disagreement is listed).
//   npm run bench:features -- [--labels 1000000] [--features 10000000] [--entities 200000] [--no-feast]
// Needs the benchmark venv with Feast (never a product dependency):
//   python3 -m venv .venv && .venv/bin/pip install feast
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { entitySchema, viewSchema } from '../../lib/features/definition';
import { pointInTimeJoin } from '../../lib/features/join';

const PY = path.resolve('.venv/bin/python');
const SCRIPT = path.join(__dirname, 'feast_join.py');

async function mlopsJoin(dir: string): Promise<void> {
  const view = viewSchema.parse({
    name: 'customer_stats',
    entity: 'customer',
    source: { path: 'features.csv' },
    timestamp: 'event_time',
    ttl: '30d',
    features: [{ name: 'amount' }, { name: 'orders' }],
  });
  const started = performance.now();
  const r = await pointInTimeJoin({
    labels: path.join(dir, 'labels.csv'),
    labelsName: 'labels.csv',
    timestamp: 'label_time',
    views: [
      {
        view,
        entity: entitySchema.parse({ name: 'customer', keys: ['customer_id'] }),
        file: path.join(dir, 'features.csv'),
        ref: 'customer_stats@v1',
      },
    ],
    out: path.join(dir, 'mlops-out.csv'),
    tmpDir: dir,
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({ seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024, rows: r.rows, stats: r.views[0] })
  );
}

function csvRows(file: string, key: string, cols: string[]): Map<string, (string | undefined)[]> {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const h = head.split(',');
  const ki = h.indexOf(key);
  const ci = cols.map((c) => h.indexOf(c));
  return new Map(
    lines.map((l) => {
      const f = l.split(',');
      return [f[ki], ci.map((i) => f[i])];
    })
  );
}

const same = (a: string | undefined, b: string | undefined) =>
  (a ?? '') === (b ?? '') || Math.abs(Number(a) - Number(b)) < 1e-9 * Math.max(1, Math.abs(Number(a)));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      labels: { type: 'string', default: '1000000' },
      features: { type: 'string', default: '10000000' },
      entities: { type: 'string', default: '200000' },
      'no-feast': { type: 'boolean', default: false },
      child: { type: 'string' },
    },
  });
  if (values.child) return mlopsJoin(values.child);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-pit-'));
  try {
    const size = ['--labels', values.labels!, '--features', values.features!, '--entities', values.entities!];
    const gen = JSON.parse(execFileSync(PY, [SCRIPT, 'generate', '--dir', dir, ...size], { encoding: 'utf8' }).trim());
    const run = (cmd: string, args: string[]) =>
      JSON.parse(
        execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] })
          .trim()
          .split('\n')
          .pop()!
      );
    const mlops = run(process.execPath, [...process.execArgv, __filename, '--child', dir]);
    const feast = values['no-feast'] ? null : run(PY, [SCRIPT, 'join', '--dir', dir]);
    let comparison = null;
    if (feast) {
      const ours = csvRows(path.join(dir, 'mlops-out.csv'), 'row', ['amount', 'orders']);
      const theirs = csvRows(path.join(dir, 'feast-out.csv'), 'row', ['amount', 'orders']);
      const disagreements: { row: string; mlops: unknown; feast: unknown }[] = [];
      // Feast's file store answers only label rows with a value inside the TTL; mlops answers every
      // row (null features past the TTL). An absent row is a disagreement only if mlops found a value.
      let missingInFeast = 0;
      let absentButValued = 0;
      for (const [row, v] of ours) {
        const f = theirs.get(row);
        if (!f) {
          missingInFeast++;
          if (v.some((x) => x !== undefined && x !== '')) absentButValued++;
          continue;
        }
        if (!same(v[0], f[0]) || !same(v[1], f[1]?.replace(/\.0$/, '')))
          disagreements.push({ row, mlops: v, feast: f });
      }
      comparison = {
        compared: ours.size - missingInFeast,
        missingInFeast,
        absentButValued,
        disagreements: disagreements.length,
        examples: disagreements.slice(0, 5),
      };
    }
    const result = {
      data: gen,
      mlops,
      feast,
      comparison,
      ratio: feast ? { time: feast.seconds / mlops.seconds, rss: feast.peakRssBytes / mlops.peakRssBytes } : null,
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(path.resolve('bench/results'), { recursive: true });
    const out = `bench/results/features-pit-join-${values.labels}x${values.features}.json`;
    writeFileSync(path.resolve(out), JSON.stringify(result, null, 2) + '\n');
    const mb = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
    console.log(
      `\n| join (${gen.labelRows} labels x ${gen.featureRows} feature rows) | seconds | peak RSS |\n|---|---|---|`
    );
    console.log(`| mlops sort-merge | ${mlops.seconds.toFixed(1)} | ${mb(mlops.peakRssBytes)} |`);
    if (feast)
      console.log(`| Feast get_historical_features (file) | ${feast.seconds.toFixed(1)} | ${mb(feast.peakRssBytes)} |`);
    if (comparison)
      console.log(
        `\nagreement: ${comparison.compared} rows compared, ${comparison.disagreements} disagree, ${comparison.missingInFeast} rows absent from Feast's answer (${comparison.absentButValued} of them valued by mlops; the rest are null past the TTL)`
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
