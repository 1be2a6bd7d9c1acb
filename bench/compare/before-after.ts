// Before/after ratios of one benchmark on two checkouts of this repository. On a shared machine
// the load changes from minute to minute, so two runs minutes apart say little; runs alternate
// A B A B (before first, then after) so that each pair meets about the same load, and the
// result is the median of the per-pair after/before ratios with their spread (min..max).
//
//   npx tsx bench/compare/before-after.ts --before /work/wt/bench12-before --after . \
//     --pairs 3 --metric overheadPerStepMs.p50 --metric wallMsMean \
//     -- bench/pipeline/overhead.ts --runs 10 --epochs 2
//
// The benchmark after `--` runs with `npx tsx` in each tree (its own copy of the script there),
// must print one JSON document first (as every bench/ script does), and each --metric is a
// dotted path into it (array indices as numbers: results.0.loop_samples_s), or a quotient of two
// (`overheadPerStepMs.p50/floorPerStepMs.withoutSearchAttributes`: a figure against a floor the
// benchmark measured at the same moment, which cancels part of the load). `--out FILE` writes
// the JSON summary there too. Not a test: nothing here asserts on time.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface Options {
  before: string;
  after: string;
  pairs: number;
  metrics: string[];
  out?: string;
  bench: string[];
}

function parseArgs(argv: string[]): Options {
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1)
    throw new Error('give the benchmark after --, e.g. -- bench/ml/mlp-flops.ts');
  const own = argv.slice(0, dash);
  const value = (name: string) => {
    const i = own.indexOf(`--${name}`);
    return i >= 0 ? own[i + 1] : undefined;
  };
  const metrics = own.flatMap((a, i) => (a === '--metric' ? [own[i + 1]] : []));
  const before = value('before');
  if (!before || metrics.length === 0) throw new Error('--before DIR and at least one --metric PATH are required');
  return {
    before: path.resolve(before),
    after: path.resolve(value('after') ?? '.'),
    pairs: Number(value('pairs') ?? 3),
    metrics,
    out: value('out'),
    bench: argv.slice(dash + 1),
  };
}

/** The first JSON document a benchmark prints: from the first `{` line to the first `}` line. */
function firstJson(stdout: string): unknown {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith('{'));
  const end = lines.findIndex((l, i) => i >= start && l.startsWith('}'));
  if (start < 0 || end < 0) throw new Error(`no JSON document in the output:\n${stdout.slice(-2000)}`);
  return JSON.parse(lines.slice(start, end + 1).join('\n'));
}

/** A dotted path, or `a/b`: the quotient of two (a figure against a floor measured in the same run). */
function pick(doc: unknown, metric: string): number {
  const [num, den] = metric.split('/');
  if (den !== undefined) return pick(doc, num) / pick(doc, den);
  let v: unknown = doc;
  for (const key of metric.split('.')) v = (v as Record<string, unknown> | undefined)?.[key];
  if (typeof v !== 'number') throw new Error(`metric ${metric} is not a number in the benchmark's JSON`);
  return v;
}

/** bash's `times`, second line: user and system time of the shell's children (and theirs). */
function childCpuSeconds(stderr: string): number {
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stderr);
  if (!m) throw new Error(`no CPU times at the end of stderr:\n${stderr.slice(-500)}`);
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

interface Run {
  values: unknown;
  seconds: number;
  cpuSeconds: number;
  load1: number;
}

/**
 * One run in `tree`. Besides its JSON, the CPU seconds of the benchmark and every process it
 * waited for (servers, worker children): the work done, which load on a shared machine stretches
 * far less than wall time.
 */
function runOnce(tree: string, bench: string[]): Run {
  const load1 = os.loadavg()[0];
  const t0 = performance.now();
  const script = 'npx tsx "$@"; status=$?; times >&2; exit $status';
  const r = spawnSync('bash', ['-c', script, 'bash', ...bench], { cwd: tree, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(`${bench.join(' ')} failed in ${tree} (status ${r.status}):\n${r.stderr.slice(-3000)}`);
  return {
    values: firstJson(r.stdout),
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: childCpuSeconds(r.stderr),
    load1,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const pairs: { before: Record<string, number>; after: Record<string, number>; load1: [number, number] }[] = [];
  for (let i = 0; i < o.pairs; i++) {
    const b = runOnce(o.before, o.bench);
    const a = runOnce(o.after, o.bench);
    const values = (run: Run) => ({
      ...Object.fromEntries(o.metrics.map((m) => [m, pick(run.values, m)])),
      cpuSeconds: run.cpuSeconds,
    });
    pairs.push({ before: values(b), after: values(a), load1: [b.load1, a.load1] });
    console.error(`pair ${i + 1}/${o.pairs}: before ${b.seconds.toFixed(0)} s, after ${a.seconds.toFixed(0)} s`);
  }
  // cpuSeconds: the whole run's CPU time (lower is better; the other metrics are the benchmark's).
  const metrics = [...o.metrics, 'cpuSeconds'].map((m) => {
    const ratios = pairs.map((p) => p.after[m] / p.before[m]);
    return {
      metric: m,
      before: pairs.map((p) => p.before[m]),
      after: pairs.map((p) => p.after[m]),
      ratios,
      medianRatio: median(ratios),
      minRatio: Math.min(...ratios),
      maxRatio: Math.max(...ratios),
    };
  });
  const summary = {
    bench: o.bench.join(' '),
    before: o.before,
    after: o.after,
    pairs: o.pairs,
    order: 'before, after, before, after, ...',
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    loadAverageAtEachRun: pairs.map((p) => p.load1),
    metrics,
  };
  const json = JSON.stringify(summary, null, 2);
  console.log(json);
  if (o.out) writeFileSync(o.out, `${json}\n`);
  const f = (x: number) => x.toPrecision(4).padStart(10);
  console.log(
    '\nmetric                                   before (median)  after (median)  after/before median [min..max]'
  );
  for (const m of metrics) {
    console.log(
      `${m.metric.padEnd(40)} ${f(median(m.before))}       ${f(median(m.after))}      ` +
        `${m.medianRatio.toFixed(3)} [${m.minRatio.toFixed(3)}..${m.maxRatio.toFixed(3)}]`
    );
  }
}

main();
