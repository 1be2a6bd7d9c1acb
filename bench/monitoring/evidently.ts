// Our binned drift statistics side by side with Evidently's on the same generated data: numeric
// columns (a normal reference against shifted / rescaled currents) for PSI, normalised
// Wasserstein, Jensen-Shannon and KS, categorical columns for PSI, Jensen-Shannon and chi², binary
// (two-category) columns for those and the two-proportion Z-test. The
// largest absolute difference per statistic is the tolerance docs/monitoring.md states.
// Evidently runs in a benchmark-only venv, never a product dependency:
//   python3 -m venv .venv && .venv/bin/pip install evidently
//   npx tsx bench/monitoring/evidently.ts [--rows 5000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mulberry32 } from '../../lib/workflow-safe/rng';
import { columnDrift, thresholdsOf } from '../../lib/monitoring/drift';
import {
  profileCategorical,
  profileNumeric,
  sketchFor,
  type CategoricalSketch,
  type NumericSketch,
} from '../../lib/monitoring/profile';
import { arg } from '../stack';

const ROOT = path.resolve(__dirname, '../..');

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
}

interface Case {
  name: string;
  /** 'bin': a categorical column with two values, where Evidently's default is the Z-test. */
  type: 'num' | 'cat' | 'bin';
  reference: (number | string)[];
  current: (number | string)[];
}

function cases(rows: number): Case[] {
  const rand = mulberry32(42);
  const normal = (mean: number, sd: number) => Array.from({ length: rows }, () => mean + sd * gaussian(rand));
  // The binary cases draw from their own stream so the earlier cases stay as they were.
  const binRand = mulberry32(43);
  const cat = (p: number[], r = rand) =>
    Array.from({ length: rows }, () => {
      let u = r();
      for (let i = 0; i < p.length; i++) if ((u -= p[i]) < 0) return `c${i}`;
      return `c${p.length - 1}`;
    });
  const ref = normal(0, 1);
  const refCat = cat([0.5, 0.3, 0.2]);
  const bin = (share: number) => cat([share, 1 - share], binRand);
  const refBin = bin(0.7);
  return [
    { name: 'same N(0,1)', type: 'num', reference: ref, current: normal(0, 1) },
    { name: 'shift 0.1 sd', type: 'num', reference: ref, current: normal(0.1, 1) },
    { name: 'shift 0.3 sd', type: 'num', reference: ref, current: normal(0.3, 1) },
    { name: 'shift 1 sd', type: 'num', reference: ref, current: normal(1, 1) },
    { name: 'scale 1.5', type: 'num', reference: ref, current: normal(0, 1.5) },
    { name: 'cat same', type: 'cat', reference: refCat, current: cat([0.5, 0.3, 0.2]) },
    { name: 'cat mild', type: 'cat', reference: refCat, current: cat([0.45, 0.3, 0.25]) },
    { name: 'cat strong', type: 'cat', reference: refCat, current: cat([0.2, 0.3, 0.5]) },
    { name: 'bin same', type: 'bin', reference: refBin, current: bin(0.7) },
    { name: 'bin mild', type: 'bin', reference: refBin, current: bin(0.68) },
    { name: 'bin strong', type: 'bin', reference: refBin, current: bin(0.5) },
  ];
}

function ours(c: Case): Record<string, number> {
  const ref =
    c.type === 'num'
      ? profileNumeric(c.name, Float64Array.from(c.reference as number[]))
      : profileCategorical(c.name, c.reference as string[]);
  const sketch = sketchFor(ref);
  for (const v of c.current) {
    if (c.type === 'num') (sketch as NumericSketch).add(v as number);
    else (sketch as CategoricalSketch).add(v as string);
  }
  const d = columnDrift(ref, sketch, { thresholds: thresholdsOf(undefined) });
  return c.type === 'num'
    ? { psi: d.stats.psi!, wasserstein: d.stats.wasserstein!, ks_p: d.stats.ks_p! }
    : { psi: d.stats.psi!, jensen_shannon: d.stats.jensen_shannon!, chi2_p: d.stats.chi2_p!, z_p: d.stats.z_p! };
}

function main(): void {
  const rows = arg('rows', 5000);
  const all = cases(rows);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-evidently-'));
  try {
    const input = path.join(dir, 'cases.json');
    writeFileSync(input, JSON.stringify(all));
    const python = path.join(ROOT, '.venv/bin/python');
    const evidently: { version: string; cases: Record<string, Record<string, number>> } = JSON.parse(
      execFileSync(python, [path.join(__dirname, 'evidently_stats.py'), input], { encoding: 'utf8' })
    );
    const theirs = evidently.cases;
    const table = all.map((c) => {
      const o = ours(c);
      const e = theirs[c.name];
      const stats = Object.keys(e).filter((k) => Number.isFinite(o[k]));
      return {
        case: c.name,
        type: c.type,
        stats: Object.fromEntries(stats.map((k) => [k, { ours: o[k], evidently: e[k], diff: Math.abs(o[k] - e[k]) }])),
      };
    });
    const tolerance: Record<string, number> = {};
    for (const t of table)
      for (const [k, v] of Object.entries(t.stats)) tolerance[k] = Math.max(tolerance[k] ?? 0, v.diff);
    const out = { rows, evidently: evidently.version, table, maxAbsDiff: tolerance };
    console.log(JSON.stringify(out, null, 2));
    writeFileSync(path.resolve(__dirname, '../results/monitoring-evidently.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(`\n${rows} reference and ${rows} current rows per case; ours (binned) vs Evidently (raw):`);
    console.log('case            stat            ours    evidently    |diff|');
    for (const t of table) {
      for (const [k, v] of Object.entries(t.stats)) {
        console.log(
          `${t.case.padEnd(15)} ${k.padEnd(14)} ${v.ours.toFixed(4).padStart(8)} ${v.evidently.toFixed(4).padStart(12)} ${v.diff.toFixed(4).padStart(9)}`
        );
      }
    }
    console.log(
      `max |diff|: ${Object.entries(tolerance)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(', ')}`
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
